/// Which live clients a change of routes or upstreams would place on another node.
public struct RebalancePreview: Sendable, Hashable {
    /// One client that would land elsewhere if it reconnected after the change.
    public struct Move: Sendable, Hashable {
        public var connectionID: UInt64
        public var clientID: String?
        public var hashKey: String
        public var routeID: String
        public var from: String
        /// The new node, or nil when the route would no longer exist or have a usable node.
        public var to: String?

        public init(connectionID: UInt64, clientID: String?, hashKey: String, routeID: String, from: String,
                    to: String?)
        {
            self.connectionID = connectionID
            self.clientID = clientID
            self.hashKey = hashKey
            self.routeID = routeID
            self.from = from
            self.to = to
        }
    }

    /// Live connections on chash routes that the change touches.
    public var considered: Int
    public var moves: [Move]

    public init(considered: Int, moves: [Move]) {
        self.considered = considered
        self.moves = moves
    }
}

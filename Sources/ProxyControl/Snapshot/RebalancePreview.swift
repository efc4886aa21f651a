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
extension RebalancePreview {
    /// Clients moving from one node to another on one route.
    public struct Flow: Sendable, Hashable {
        public var routeID: String
        public var from: String
        /// nil when the route would have no usable node.
        public var to: String?
        public var count: Int
    }

    /// The moves grouped by route and by (from → to), largest first (ties by route, then nodes): what an operator
    /// reads before the one-by-one list.
    public var flows: [Flow] {
        var counts: [FlowKey: Int] = [:]
        for m in moves { counts[FlowKey(routeID: m.routeID, from: m.from, to: m.to), default: 0] += 1 }
        return counts.map { Flow(routeID: $0.key.routeID, from: $0.key.from, to: $0.key.to, count: $0.value) }
            .sorted { a, b in
                if a.count != b.count { return a.count > b.count }
                if a.routeID != b.routeID { return a.routeID < b.routeID }
                if a.from != b.from { return a.from < b.from }
                return (a.to ?? "") < (b.to ?? "")
            }
    }

    /// Moving clients per route, largest first.
    public var movesPerRoute: [(routeID: String, count: Int)] {
        Dictionary(grouping: moves, by: \.routeID).map { ($0.key, $0.value.count) }
            .sorted { $0.count != $1.count ? $0.count > $1.count : $0.routeID < $1.routeID }
    }

    private struct FlowKey: Hashable {
        var routeID: String
        var from: String
        var to: String?
    }
}

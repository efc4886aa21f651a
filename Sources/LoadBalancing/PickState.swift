/// Per-connection picking state: which nodes were tried, the ring position and the priority group position.
///
/// Start each client connection with a fresh value and pass the same value to every
/// ``UpstreamBalancer/pick(hashKey:state:)`` call of that connection's retries.
public struct PickState: Sendable {
    /// Indexes (into ``UpstreamBalancer/nodes``) already returned by `pick` for this connection.
    public var tried = NodeIndexSet()
    /// How many nodes `pick` has returned so far.
    public var attempts = 0
    /// Position in the balancer's priority groups, highest priority first (0 = the top group).
    public var group = 0
    /// chash only: the ring point of the last node picked in the current group; nil before the first pick there.
    public var ringPoint: Int?

    /// Creates the state of a connection that has not tried any node yet.
    public init() {}
}

import Synchronization

/// One priority group of an upstream and the picker that serves it.
struct PriorityGroup: Sendable {
    /// The `priority` shared by the members.
    let priority: Int
    /// Indexes (into the balancer's nodes) of the members, in node order.
    let members: [Int]
    /// Members with weight > 0: the only nodes a pick in this group can return.
    let pickable: [Int]
    /// The algorithm state; local index `i` of a ring or round robin stands for `members[i]`.
    let picker: GroupPicker
}

/// The per-group algorithm of an ``UpstreamBalancer``.
enum GroupPicker: Sendable {
    /// Consistent hashing over the members (immutable, shared without locking).
    case ring(ConsistentHashRing)
    /// Smooth weighted round robin over the members.
    case roundRobin(LockedRoundRobin)
    /// Least connections, using the balancer-wide connection counts.
    case leastConn
}

/// A smooth weighted round robin behind a mutex, shared by every event loop.
final class LockedRoundRobin: Sendable {
    let state: Mutex<SmoothWeightedRoundRobin>

    init(weights: [Int]) {
        state = Mutex(SmoothWeightedRoundRobin(weights: weights))
    }
}

/// Least-connections counts behind a mutex, shared by every event loop.
final class LockedLeastConnections: Sendable {
    let state: Mutex<LeastConnections>

    init(weights: [Int]) {
        state = Mutex(LeastConnections(weights: weights))
    }
}

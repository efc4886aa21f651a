import Atomics
import NIOCore

/// Counts open client connections against the global `max_connections` and each listener's own limit.
///
/// Every accepted connection is admitted and released exactly once (on close). A connection over a limit is not
/// dropped: it is read up to its CONNECT and refused in MQTT (3.1.1: 0x03 server unavailable, 5: 0x97 quota
/// exceeded). Only past the reserve (a flood) are connections closed as soon as they are accepted.
final class Admission: Sendable {
    /// The limit over all listeners.
    let limit: Int
    /// Above this, connections are closed unread: their descriptors are needed elsewhere.
    let closeAbove: Int
    /// Where `limit` came from, for messages: "max_connections" or "the descriptor limit".
    let source: String
    private let open = ManagedAtomic<Int>(0)

    init(limit: Int, reserve: Int, source: String) {
        self.limit = limit
        self.closeAbove = limit + max(16, reserve / 2)
        self.source = source
    }

    /// The engine's limit: `max_connections`, or what the descriptor budget allows.
    convenience init(maxConnections: Int?, budget: DescriptorBudget) {
        self.init(limit: maxConnections ?? budget.maxConnections, reserve: budget.reserve,
                  source: maxConnections == nil ? "the descriptor limit" : "max_connections")
    }

    /// Client connections open now.
    var current: Int { open.load(ordering: .relaxed) }

    /// What to do with a connection just accepted on `listener`.
    enum Verdict: Sendable, Equatable {
        case admitted
        /// Over a limit: refuse it in MQTT once its CONNECT is read.
        case overLimit(String)
        /// Far over: close it at once.
        case closeNow(String)
    }

    /// Counts a connection in (`release` must follow, once) and says whether it may go on.
    func admit(_ listener: ListenerAdmission) -> Verdict {
        let total = open.wrappingIncrementThenLoad(ordering: .relaxed)
        let onListener = listener.open.wrappingIncrementThenLoad(ordering: .relaxed)
        if total > closeAbove {
            return .closeNow("\(total) client connections open, far over the limit of \(limit) (\(source))")
        }
        if total > limit {
            return .overLimit("\(total) client connections open, over the limit of \(limit) (\(source))")
        }
        if let own = listener.limit, onListener > own {
            return .overLimit("\(onListener) client connections open on \(listener.name), over its max_connections \(own)")
        }
        return .admitted
    }

    func release(_ listener: ListenerAdmission) {
        open.wrappingDecrement(ordering: .relaxed)
        listener.open.wrappingDecrement(ordering: .relaxed)
    }
}

/// One listener's count of open client connections and its own limit.
final class ListenerAdmission: Sendable {
    let name: String
    let limit: Int?
    let open = ManagedAtomic<Int>(0)

    init(name: String, limit: Int?) {
        self.name = name
        self.limit = limit
    }
}

import LoadBalancing
import NIOCore

/// The attempts of one client connection to reach a broker: the next node to try (the balancer's pick, counted
/// against the node at once for least_conn), within the upstream's `retries` and `retry_timeout`.
struct UpstreamAttempts {
    /// What to do next.
    enum Next {
        /// Try node `index` of the route (ring point `ringPoint` on chash).
        case node(index: Int, ringPoint: Int?)
        /// Stop: every attempt allowed was made, or no node is left.
        case giveUp(String)
    }

    let balancer: UpstreamBalancer
    let hashKey: String?
    let maxAttempts: Int
    /// Overall budget for retries; nil for none.
    let budget: TimeAmount?
    let started: NIODeadline
    private(set) var pick = PickState()

    /// `excluded` nodes (unhealthy or draining) are skipped as if tried: chash walks on to the next ring node.
    init(balancer: UpstreamBalancer, upstreamRetries: Int, retryTimeout: Double?, hashKey: String?,
         excluded: NodeIndexSet? = nil)
    {
        self.balancer = balancer
        self.hashKey = hashKey
        maxAttempts = upstreamRetries + 1
        budget = retryTimeout.flatMap { $0 > 0 ? .nanoseconds(Int64($0 * 1e9)) : nil }
        started = .now()
        if let excluded { pick.tried = excluded }
    }

    /// Attempts made so far (1 while the first is in flight).
    var attempts: Int { pick.attempts }

    /// The next node, or why there is none. A node returned is counted as open on the balancer until
    /// `finished(index:)`.
    mutating func next() -> Next {
        if pick.attempts >= maxAttempts { return .giveUp("gave up after \(pick.attempts) attempt(s)") }
        if let budget, pick.attempts > 0, NIODeadline.now() - started > budget {
            return .giveUp("retry_timeout of \(budget.seconds) s spent after \(pick.attempts) attempt(s)")
        }
        guard let index = balancer.pick(hashKey: hashKey, state: &pick) else {
            return .giveUp("all upstream nodes tried (\(pick.attempts))")
        }
        // Counted against the node at once, as APISIX does, so concurrent picks during a slow connect see it.
        balancer.connectionOpened(index)
        return .node(index: index, ringPoint: pick.ringPoint)
    }

    /// The attempt on `index` failed, or its relay ended: the node's count goes down again.
    func finished(index: Int) {
        balancer.connectionClosed(index)
    }
}

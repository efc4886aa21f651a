/// Least-connections bookkeeping: active connections per node and APISIX's score `(active + 1) / weight`.
///
/// ``pick(skipping:)`` returns the candidate with the lowest score; nodes of weight 0 (or less) are never
/// chosen. Ties are broken round-robin: the scan starts just after the previously picked node, so equally
/// loaded nodes take turns instead of the first one taking every short-lived connection. A plain value type:
/// wrap it in a lock to share it.
public struct LeastConnections: Sendable, Hashable {
    /// The configured weights; negative values count as 0.
    public let weights: [Int]
    /// Active connections per node, maintained by ``opened(_:)`` and ``closed(_:)``.
    public private(set) var active: [Int]
    /// Where the next scan starts (one past the last pick), for round-robin among equal scores.
    private var cursor = 0

    /// Creates the state for nodes with the given weights and no active connection.
    public init(weights: [Int]) {
        self.weights = weights.map { max($0, 0) }
        active = Array(repeating: 0, count: weights.count)
    }

    /// The candidate with the lowest `(active + 1) / weight`, or nil when every candidate is excluded.
    public mutating func pick(skipping isExcluded: (Int) -> Bool) -> Int? {
        let count = weights.count
        var best: Int?
        for offset in 0..<count {
            let index = (cursor + offset) % count
            guard weights[index] > 0, !isExcluded(index) else { continue }
            if let chosen = best {
                // (a + 1) / w < (b + 1) / v  ⇔  (a + 1) · v < (b + 1) · w, exact in integers.
                if (active[index] + 1) * weights[chosen] < (active[chosen] + 1) * weights[index] {
                    best = index
                }
            } else {
                best = index
            }
        }
        if let best {
            cursor = (best + 1) % count
        }
        return best
    }

    /// Records that a connection to node `index` started.
    public mutating func opened(_ index: Int) {
        active[index] += 1
    }

    /// Records that a connection to node `index` ended; never goes below 0.
    public mutating func closed(_ index: Int) {
        active[index] = max(active[index] - 1, 0)
    }
}

/// nginx's smooth weighted round robin over a fixed list of weights.
///
/// Each pick adds every candidate's weight to its current weight, chooses the largest current weight (the
/// lowest index on a tie) and subtracts the candidates' total from the winner. Weights 5/1/1 give
/// `a a b a c a a`. Nodes of weight 0 (or less) are never chosen. A plain value type: wrap it in a lock to share it.
public struct SmoothWeightedRoundRobin: Sendable, Hashable {
    /// The configured weights; negative values count as 0.
    public let weights: [Int]
    /// The running "current weight" of each node.
    public private(set) var currentWeights: [Int]

    /// Creates the state for nodes with the given weights, all current weights at 0.
    public init(weights: [Int]) {
        self.weights = weights.map { max($0, 0) }
        currentWeights = Array(repeating: 0, count: weights.count)
    }

    /// The next node, or nil when no node has a positive weight.
    public mutating func next() -> Int? {
        next(skipping: { _ in false })
    }

    /// The next node among those for which `isExcluded` is false; excluded nodes keep their current weight.
    public mutating func next(skipping isExcluded: (Int) -> Bool) -> Int? {
        var best: Int?
        var total = 0
        for index in weights.indices where weights[index] > 0 && !isExcluded(index) {
            currentWeights[index] += weights[index]
            total += weights[index]
            if let chosen = best {
                if currentWeights[index] > currentWeights[chosen] {
                    best = index
                }
            } else {
                best = index
            }
        }
        if let best {
            currentWeights[best] -= total
        }
        return best
    }
}

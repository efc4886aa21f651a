/// A set of small non-negative node indexes stored as a bitset.
///
/// Indexes below 64 live inline, so the common case never allocates; larger upstreams spill into an array.
public struct NodeIndexSet: Hashable, Sendable {
    private var low: UInt64 = 0
    private var high: [UInt64] = []

    /// Creates an empty set.
    public init() {}

    /// Creates a set holding the given indexes.
    public init(_ indexes: some Sequence<Int>) {
        for index in indexes {
            insert(index)
        }
    }

    /// Whether `index` is in the set.
    public func contains(_ index: Int) -> Bool {
        guard index >= 0 else { return false }
        if index < 64 {
            return low & (1 << UInt64(index)) != 0
        }
        let word = index / 64 - 1
        guard word < high.count else { return false }
        return high[word] & (1 << UInt64(index % 64)) != 0
    }

    /// Adds `index`; returns false when it was already present.
    @discardableResult
    public mutating func insert(_ index: Int) -> Bool {
        precondition(index >= 0, "node indexes are non-negative")
        if contains(index) {
            return false
        }
        if index < 64 {
            low |= 1 << UInt64(index)
        } else {
            let word = index / 64 - 1
            if word >= high.count {
                high.append(contentsOf: repeatElement(0, count: word - high.count + 1))
            }
            high[word] |= 1 << UInt64(index % 64)
        }
        return true
    }

    /// Removes every index.
    public mutating func removeAll() {
        low = 0
        high.removeAll(keepingCapacity: true)
    }

    /// The number of indexes in the set.
    public var count: Int {
        high.reduce(low.nonzeroBitCount) { $0 + $1.nonzeroBitCount }
    }

    /// Whether the set is empty.
    public var isEmpty: Bool {
        low == 0 && high.allSatisfy { $0 == 0 }
    }

    /// Whether every index of this set is in `other`.
    public func isSubset(of other: NodeIndexSet) -> Bool {
        guard low & ~other.low == 0 else { return false }
        for (word, bits) in high.enumerated() where bits != 0 {
            let theirs = word < other.high.count ? other.high[word] : 0
            if bits & ~theirs != 0 { return false }
        }
        return true
    }

    /// Every index of either set.
    public func union(_ other: NodeIndexSet) -> NodeIndexSet {
        var out = self
        out.low |= other.low
        for (word, bits) in other.high.enumerated() {
            if word >= out.high.count { out.high.append(0) }
            out.high[word] |= bits
        }
        return out
    }

    /// The indexes in ascending order.
    public var sorted: [Int] {
        var result: [Int] = []
        for index in 0..<(64 * (high.count + 1)) where contains(index) {
            result.append(index)
        }
        return result
    }
}

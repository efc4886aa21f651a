/// The consistent-hash ring of lua-resty-balancer's `resty.chash`, as APISIX's `chash` balancer builds it.
///
/// Construction (done once per node set):
/// - a node's id is its server string `host:port` with every `:` replaced by a NUL byte;
/// - weights are divided by the GCD of all weights; a node gets 160 points per remaining weight unit;
/// - point *i* of a node is CRC-32(id ++ little-endian bytes of point *i − 1*), point −1 being 0;
/// - points are sorted by hash; equal hashes keep node order, then point order.
///
/// A key's position is the CRC-32 of its UTF-8 bytes; it lands on the first point whose hash is greater than or
/// equal to it, wrapping to the first point. Lookups are a binary search over a flat array and never allocate.
public struct ConsistentHashRing: Sendable {
    /// Ring points per weight unit (`CONSISTENT_POINTS` in `resty.chash`).
    public static let pointsPerWeightUnit = 160

    /// The number of nodes the ring was built from (including those with no points).
    public let nodeCount: Int
    /// Each node's weight after division by the GCD (0 for a node of weight 0).
    public let reducedWeights: [Int]
    /// Point hashes in ascending order.
    private let hashes: [UInt32]
    /// `owners[p]` is the node index of point `p`.
    private let owners: [Int32]

    /// Builds the ring from server strings (`host:port`, IPv6 as `[addr]:port`) and weights, in node order.
    public init(servers: [(address: String, weight: Int)]) {
        self.init(ids: servers.map { (id: Self.nodeID(forAddress: $0.address), weight: $0.weight) })
    }

    /// Builds the ring from balancer nodes, in array order; their ``BalancerNode/address`` names them.
    public init(nodes: [BalancerNode]) {
        self.init(servers: nodes.map { (address: $0.address, weight: $0.weight) })
    }

    /// Builds the ring from raw node ids (already NUL-separated) and weights; negative weights count as 0.
    public init(ids: [(id: [UInt8], weight: Int)]) {
        let weights = ids.map { max($0.weight, 0) }
        let divisor = weights.reduce(0, Self.gcd)
        let reduced = weights.map { divisor == 0 ? 0 : $0 / divisor }
        let total = reduced.reduce(0) { $0 + $1 * Self.pointsPerWeightUnit }
        precondition(total <= Int(UInt32.max), "too many ring points")

        var owners: [Int32] = []
        var keys: [UInt64] = []
        owners.reserveCapacity(total)
        keys.reserveCapacity(total)
        for (node, entry) in ids.enumerated() {
            let count = reduced[node] * Self.pointsPerWeightUnit
            Self.forEachPointHash(nodeID: entry.id, count: count) { hash in
                keys.append(UInt64(hash) << 32 | UInt64(keys.count))
                owners.append(Int32(node))
            }
        }
        keys.sort()

        nodeCount = ids.count
        reducedWeights = reduced
        hashes = keys.map { UInt32(truncatingIfNeeded: $0 >> 32) }
        self.owners = keys.map { owners[Int(truncatingIfNeeded: $0 & 0xFFFF_FFFF)] }
    }

    /// The node id APISIX derives from a server string: every `:` replaced by a NUL byte.
    public static func nodeID(forAddress address: String) -> [UInt8] {
        address.utf8.map { $0 == UInt8(ascii: ":") ? 0 : $0 }
    }

    /// The first `count` point hashes of a node, in generation order (before sorting).
    public static func pointHashes(nodeID: [UInt8], count: Int) -> [UInt32] {
        var result: [UInt32] = []
        result.reserveCapacity(count)
        forEachPointHash(nodeID: nodeID, count: count) { result.append($0) }
        return result
    }

    /// Runs `body` with each point hash of a node: CRC-32 register of the id, extended by the previous point.
    private static func forEachPointHash(nodeID: [UInt8], count: Int, _ body: (UInt32) -> Void) {
        let base = CRC32.update(CRC32.initialState, with: nodeID)
        var previous: UInt32 = 0
        for _ in 0..<count {
            previous = CRC32.finalize(CRC32.update(base, littleEndian: previous))
            body(previous)
        }
    }

    /// Greatest common divisor; `gcd(0, x) == x`.
    private static func gcd(_ a: Int, _ b: Int) -> Int {
        var (a, b) = (a, b)
        while b != 0 {
            (a, b) = (b, a % b)
        }
        return a
    }

    /// The number of points on the ring.
    public var pointCount: Int { hashes.count }

    /// Whether the ring has no points (no node, or every weight 0); lookups then return nil.
    public var isEmpty: Bool { hashes.isEmpty }

    /// The hash of point `point` (0 ..< ``pointCount``).
    public func hash(ofPoint point: Int) -> UInt32 { hashes[point] }

    /// The node owning point `point` (0 ..< ``pointCount``).
    public func node(ofPoint point: Int) -> Int { Int(owners[point]) }

    /// Where `key` lands: CRC-32 of its UTF-8 bytes, then ``lookup(hash:)``. Nil on an empty ring.
    public func lookup(_ key: String) -> (node: Int, point: Int)? {
        lookup(hash: CRC32.checksum(key))
    }

    /// The first point whose hash is ≥ `hash`, wrapping to point 0; nil on an empty ring. O(log n), no allocation.
    public func lookup(hash: UInt32) -> (node: Int, point: Int)? {
        let point = hashes.withUnsafeBufferPointer { hashes -> Int in
            var low = 0
            var high = hashes.count
            while low < high {
                let middle = low + (high - low) / 2
                if hashes[middle] < hash {
                    low = middle + 1
                } else {
                    high = middle
                }
            }
            return low
        }
        guard !hashes.isEmpty else { return nil }
        let wrapped = point == hashes.count ? 0 : point
        return (node: Int(owners[wrapped]), point: wrapped)
    }

    /// The point after `point`, wrapping around (resty.chash's `next`). The ring must not be empty.
    public func next(after point: Int) -> (node: Int, point: Int) {
        precondition(!hashes.isEmpty, "next(after:) on an empty ring")
        let following = point + 1 >= hashes.count ? 0 : point + 1
        return (node: Int(owners[following]), point: following)
    }

    /// How many points each node owns.
    public var pointsPerNode: [Int] {
        reducedWeights.map { $0 * Self.pointsPerWeightUnit }
    }
}

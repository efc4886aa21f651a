@testable import LoadBalancing

/// A small deterministic generator (SplitMix64), so property tests see the same keys on every run.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }
}

/// `count` pseudo-random client ids, the same for a given seed.
func randomClientIDs(count: Int, seed: UInt64 = 42) -> [String] {
    var generator = SplitMix64(seed: seed)
    return (0..<count).map { _ in "client-" + String(generator.next(), radix: 16) }
}

/// Bit-by-bit CRC-32/IEEE, independent of the table-driven implementation under test.
func referenceCRC32(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
        crc ^= UInt32(byte)
        for _ in 0..<8 {
            crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1
        }
    }
    return ~crc
}

/// Equal-weight nodes `10.0.0.1:1883`, `10.0.0.2:1883`, ….
func equalNodes(_ count: Int, weight: Int = 1) -> [BalancerNode] {
    (1...count).map { BalancerNode(host: "10.0.0.\($0)", port: 1883, weight: weight) }
}

/// Picks until the balancer returns nil and returns the sequence of node indexes.
func pickAll(_ balancer: UpstreamBalancer, hashKey: String? = nil) -> [Int] {
    var state = PickState()
    var picked: [Int] = []
    while let index = balancer.pick(hashKey: hashKey, state: &state) {
        picked.append(index)
        if picked.count > balancer.nodes.count {
            break
        }
    }
    return picked
}

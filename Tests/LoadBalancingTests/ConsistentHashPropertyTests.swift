import Testing
@testable import LoadBalancing

@Suite("Consistent-hash properties")
struct ConsistentHashPropertyTests {
    static let keys = randomClientIDs(count: 10_000)

    /// Where each key lands, as node addresses.
    static func placements(_ nodes: [BalancerNode]) -> [String] {
        let ring = ConsistentHashRing(nodes: nodes)
        return keys.map { nodes[ring.lookup($0)!.node].address }
    }

    @Test("adding a node moves about 1/(N+1) of the keys, all onto the new node", arguments: 2...10)
    func addingANode(count: Int) {
        let before = Self.placements(equalNodes(count))
        let grown = equalNodes(count + 1)
        let after = Self.placements(grown)
        let newcomer = grown[count].address
        var moved = 0
        for (old, new) in zip(before, after) where old != new {
            moved += 1
            #expect(new == newcomer)
        }
        let share = Double(moved) / Double(Self.keys.count)
        let ideal = 1 / Double(count + 1)
        // 160 points per node leave each node's arc within about ±20% of its ideal share.
        #expect(abs(share - ideal) <= 0.3 * ideal, "moved \(share), ideal \(ideal)")
    }

    @Test("removing a node moves only that node's keys", arguments: 2...10)
    func removingANode(count: Int) {
        let nodes = equalNodes(count + 1)
        let removed = nodes[count / 2]
        let before = Self.placements(nodes)
        let after = Self.placements(nodes.filter { $0 != removed })
        for (old, new) in zip(before, after) {
            if old == removed.address {
                #expect(new != removed.address)
            } else {
                #expect(new == old)
            }
        }
    }

    /// Keys follow the ring's arcs: each node's key share is its exact arc share within sampling noise.
    @Test("keys spread like the ring's arcs", arguments: 2...10)
    func keysFollowArcs(count: Int) {
        let nodes = equalNodes(count)
        let ring = ConsistentHashRing(nodes: nodes)
        var arcs = Array(repeating: 0.0, count: count)
        for point in 0..<ring.pointCount {
            let previous = point == 0 ? Int64(ring.hash(ofPoint: ring.pointCount - 1)) - (1 << 32)
                : Int64(ring.hash(ofPoint: point - 1))
            arcs[ring.node(ofPoint: point)] += Double(Int64(ring.hash(ofPoint: point)) - previous) / 4_294_967_296
        }
        var counts = Array(repeating: 0, count: count)
        for key in Self.keys {
            counts[ring.lookup(key)!.node] += 1
        }
        for node in 0..<count {
            let share = Double(counts[node]) / Double(Self.keys.count)
            #expect(abs(share - arcs[node]) < 0.02, "node \(node): keys \(share), arc \(arcs[node])")
            // The ring itself: every node within ±25% of an equal share (±15% does not hold for all N).
            #expect(abs(arcs[node] * Double(count) - 1) < 0.25)
        }
    }

    @Test(
        "distribution within ±15% of the weight share",
        arguments: [[1, 1], [1, 1, 1], [1, 2, 3], [5, 1, 1], [3, 1], [1, 1, 1, 1, 4], [10, 20, 30]]
    )
    func weightedDistribution(weights: [Int]) {
        let nodes = weights.enumerated().map { offset, weight in
            BalancerNode(host: "10.0.0.\(offset + 1)", port: 1883, weight: weight)
        }
        let ring = ConsistentHashRing(nodes: nodes)
        var counts = Array(repeating: 0, count: nodes.count)
        for key in Self.keys {
            counts[ring.lookup(key)!.node] += 1
        }
        let total = Double(weights.reduce(0, +))
        for (node, weight) in weights.enumerated() {
            let expected = Double(weight) / total
            let share = Double(counts[node]) / Double(Self.keys.count)
            #expect(abs(share - expected) <= 0.15 * expected, "node \(node): \(share) vs \(expected)")
        }
    }
}

import Testing
@testable import LoadBalancing

@Suite("Smooth weighted round robin")
struct RoundRobinTests {
    /// Nodes a, b, c with nginx's classic weights 5, 1, 1.
    static let fiveOneOne = [5, 1, 1].enumerated().map { offset, weight in
        BalancerNode(host: "10.0.0.\(offset + 1)", port: 1883, weight: weight)
    }

    @Test("weights 5/1/1 give nginx's a a b a c a a")
    func nginxSequence() {
        var wrr = SmoothWeightedRoundRobin(weights: [5, 1, 1])
        let sequence = (0..<14).map { _ in wrr.next()! }
        #expect(sequence == [0, 0, 1, 0, 2, 0, 0, 0, 0, 1, 0, 2, 0, 0])
        #expect(wrr.currentWeights == [0, 0, 0])
    }

    @Test("exact proportions over 700 picks through the balancer")
    func proportions() {
        let nodes = Self.fiveOneOne
        let balancer = UpstreamBalancer(kind: .roundrobin, nodes: nodes)
        var counts = [0, 0, 0]
        for _ in 0..<700 {
            var state = PickState()
            counts[balancer.pick(hashKey: nil, state: &state)!] += 1
        }
        #expect(counts == [500, 100, 100])
    }

    @Test("weight 0 is never picked")
    func zeroWeight() {
        var wrr = SmoothWeightedRoundRobin(weights: [2, 0, 1])
        let picks = (0..<300).map { _ in wrr.next()! }
        #expect(!picks.contains(1))
        #expect(picks.filter { $0 == 0 }.count == 200)
        var none = SmoothWeightedRoundRobin(weights: [0, 0])
        #expect(none.next() == nil)
    }

    @Test("retries skip tried nodes and end with nil")
    func retries() {
        let balancer = UpstreamBalancer(kind: .roundrobin, nodes: equalNodes(4))
        for _ in 0..<10 {
            #expect(Set(pickAll(balancer)) == [0, 1, 2, 3])
        }
        var nodes = equalNodes(3)
        nodes[2].weight = 0
        #expect(pickAll(UpstreamBalancer(kind: .roundrobin, nodes: nodes)).sorted() == [0, 1])
    }

    @Test("skipped nodes keep their current weight")
    func skippingLeavesStateAlone() {
        var wrr = SmoothWeightedRoundRobin(weights: [1, 1])
        #expect(wrr.next(skipping: { $0 == 0 }) == 1)
        #expect(wrr.currentWeights == [0, 0])
        #expect(wrr.next(skipping: { _ in true }) == nil)
    }

    @Test("concurrent picks from many tasks keep the exact proportions")
    func concurrentPicks() async {
        let nodes = Self.fiveOneOne
        let balancer = UpstreamBalancer(kind: .roundrobin, nodes: nodes)
        let counts = await withTaskGroup(of: [Int].self) { group in
            for _ in 0..<8 {
                group.addTask {
                    var counts = [0, 0, 0]
                    for _ in 0..<700 {
                        var state = PickState()
                        counts[balancer.pick(hashKey: nil, state: &state)!] += 1
                    }
                    return counts
                }
            }
            var total = [0, 0, 0]
            for await partial in group {
                total = zip(total, partial).map(+)
            }
            return total
        }
        #expect(counts == [4_000, 800, 800])
    }
}

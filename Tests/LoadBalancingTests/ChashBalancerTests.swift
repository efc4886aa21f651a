import Testing
@testable import LoadBalancing

@Suite("chash balancer: retries, weight 0, single node")
struct ChashBalancerTests {
    /// The node order an independent walk of the ring gives: start at the key's point, skip nodes already seen.
    func expectedWalk(_ ring: ConsistentHashRing, key: String) -> [Int] {
        var order: [Int] = []
        var current = ring.lookup(key)!
        for _ in 0..<ring.pointCount {
            if !order.contains(current.node) {
                order.append(current.node)
            }
            current = ring.next(after: current.point)
        }
        return order
    }

    @Test("retries walk the ring to the next untried node, then give up", arguments: ["a", "f", "client-42", ""])
    func retryWalk(key: String) {
        let nodes = equalNodes(4)
        let balancer = UpstreamBalancer(kind: .chash, nodes: nodes)
        let picked = pickAll(balancer, hashKey: key)
        #expect(picked == expectedWalk(ConsistentHashRing(nodes: nodes), key: key))
        #expect(picked.count == 4)
        #expect(picked.first == balancer.place(hashKey: key))
    }

    @Test("the ring position is remembered between retries")
    func ringPointAdvances() throws {
        let balancer = UpstreamBalancer(kind: .chash, nodes: equalNodes(3))
        let ring = try #require(balancer.ring(ofGroup: 0))
        var state = PickState()
        let first = try #require(balancer.pick(hashKey: "g", state: &state))
        #expect(state.ringPoint == ring.lookup("g")?.point)
        let second = try #require(balancer.pick(hashKey: "g", state: &state))
        let point = try #require(state.ringPoint)
        #expect(ring.node(ofPoint: point) == second)
        #expect(second != first)
        #expect(state.attempts == 2)
        #expect(state.tried == NodeIndexSet([first, second]))
    }

    @Test("a nil key hashes like the empty string")
    func nilKey() {
        let balancer = UpstreamBalancer(kind: .chash, nodes: equalNodes(5))
        #expect(pickAll(balancer, hashKey: nil) == pickAll(balancer, hashKey: ""))
    }

    @Test("weight 0 is never picked, not even on retries")
    func zeroWeightNeverPicked() {
        var nodes = equalNodes(3)
        nodes[1].weight = 0
        let balancer = UpstreamBalancer(kind: .chash, nodes: nodes)
        for key in randomClientIDs(count: 300) {
            let picked = pickAll(balancer, hashKey: key)
            #expect(Set(picked) == [0, 2])
        }
    }

    @Test("every weight 0: nothing to pick")
    func allZero() {
        let balancer = UpstreamBalancer(kind: .chash, nodes: equalNodes(3, weight: 0))
        #expect(pickAll(balancer, hashKey: "x").isEmpty)
        #expect(balancer.place(hashKey: "x") == nil)
    }

    @Test("a single node is used without hashing, whatever its weight", arguments: [0, 1, 5])
    func singleNode(weight: Int) {
        let balancer = UpstreamBalancer(kind: .chash, nodes: [BalancerNode(host: "b", port: 1883, weight: weight)])
        #expect(balancer.place(hashKey: "anything") == 0)
        #expect(pickAll(balancer, hashKey: "anything") == [0])
    }

    @Test("no nodes: nothing to pick")
    func noNodes() {
        let balancer = UpstreamBalancer(kind: .chash, nodes: [])
        #expect(pickAll(balancer, hashKey: "x").isEmpty)
    }

    @Test("a duplicate address is merged: the last one stands with its weight")
    func duplicates() throws {
        let nodes = [
            BalancerNode(host: "10.0.0.1", port: 1883, weight: 1),
            BalancerNode(host: "10.0.0.2", port: 1883, weight: 1),
            BalancerNode(host: "10.0.0.1", port: 1883, weight: 3),
        ]
        let balancer = UpstreamBalancer(kind: .chash, nodes: nodes)
        #expect(balancer.groups.first?.members == [1, 2])
        #expect(try #require(balancer.ring(ofGroup: 0)).reducedWeights == [1, 3])
        for key in randomClientIDs(count: 200) {
            #expect(pickAll(balancer, hashKey: key).sorted() == [1, 2])
        }
    }

    @Test("place is nil for other kinds")
    func placeOnlyForChash() {
        #expect(UpstreamBalancer(kind: .roundrobin, nodes: equalNodes(2)).place(hashKey: "a") == nil)
        #expect(UpstreamBalancer(kind: .leastConn, nodes: equalNodes(2)).place(hashKey: "a") == nil)
    }
}

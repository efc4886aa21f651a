import Testing
@testable import LoadBalancing

@Suite("Priority groups")
struct PriorityTests {
    /// Two nodes at priority 1, two at 0, one at -1.
    static let nodes = [
        BalancerNode(host: "10.0.0.1", port: 1883, priority: 0),
        BalancerNode(host: "10.0.0.2", port: 1883, priority: 1),
        BalancerNode(host: "10.0.0.3", port: 1883, priority: -1),
        BalancerNode(host: "10.0.0.4", port: 1883, priority: 1),
        BalancerNode(host: "10.0.0.5", port: 1883, priority: 0),
    ]

    @Test("groups are ordered from the highest priority down")
    func groupOrder() {
        let balancer = UpstreamBalancer(kind: .roundrobin, nodes: Self.nodes)
        #expect(balancer.groups.map(\.priority) == [1, 0, -1])
        #expect(balancer.groups.map(\.members) == [[1, 3], [0, 4], [2]])
    }

    @Test("a lower group is used only after every node above was tried", arguments: BalancerKind.allCases)
    func fallThrough(kind: BalancerKind) {
        let balancer = UpstreamBalancer(kind: kind, nodes: Self.nodes)
        for key in randomClientIDs(count: 50) {
            let picked = pickAll(balancer, hashKey: key)
            #expect(picked.count == 5)
            #expect(Set(picked.prefix(2)) == [1, 3])
            #expect(Set(picked.dropFirst(2).prefix(2)) == [0, 4])
            #expect(picked.last == 2)
        }
    }

    @Test("chash hashes the key again on the lower group's own ring")
    func chashRehashesInLowerGroup() throws {
        let balancer = UpstreamBalancer(kind: .chash, nodes: Self.nodes)
        let lower = try #require(balancer.ring(ofGroup: 1))
        for key in randomClientIDs(count: 50) {
            var state = PickState()
            _ = balancer.pick(hashKey: key, state: &state)
            _ = balancer.pick(hashKey: key, state: &state)
            let third = balancer.pick(hashKey: key, state: &state)
            #expect(state.group == 1)
            #expect(third == balancer.groups[1].members[try #require(lower.lookup(key)).node])
        }
    }

    @Test("place uses the highest group")
    func placeUsesTopGroup() throws {
        let balancer = UpstreamBalancer(kind: .chash, nodes: Self.nodes)
        let top = try #require(balancer.ring(ofGroup: 0))
        for key in randomClientIDs(count: 50) {
            #expect(balancer.place(hashKey: key) == balancer.groups[0].members[try #require(top.lookup(key)).node])
        }
    }

    @Test("a group whose nodes all have weight 0 is skipped", arguments: BalancerKind.allCases)
    func zeroWeightGroup(kind: BalancerKind) {
        let nodes = [
            BalancerNode(host: "10.0.0.1", port: 1883, weight: 0, priority: 5),
            BalancerNode(host: "10.0.0.2", port: 1883, weight: 1, priority: 0),
            BalancerNode(host: "10.0.0.3", port: 1883, weight: 0, priority: 5),
        ]
        let balancer = UpstreamBalancer(kind: kind, nodes: nodes)
        #expect(pickAll(balancer, hashKey: "k") == [1])
    }

    @Test("the same address at two priorities is two distinct nodes")
    func sameAddressTwoPriorities() {
        let nodes = [
            BalancerNode(host: "10.0.0.1", port: 1883, priority: 1),
            BalancerNode(host: "10.0.0.2", port: 1883, priority: 1),
            BalancerNode(host: "10.0.0.1", port: 1883, priority: 0),
        ]
        let balancer = UpstreamBalancer(kind: .chash, nodes: nodes)
        let picked = pickAll(balancer, hashKey: "k")
        #expect(picked.count == 3)
        #expect(picked.last == 2)
    }
}

import Testing
@testable import LoadBalancing

@Suite("Nodes and index sets")
struct NodeTests {
    @Test(
        "node-map keys parse",
        arguments: [
            ("127.0.0.1:1995", "127.0.0.1", 1995),
            ("broker-1.mqtt.svc:1883", "broker-1.mqtt.svc", 1883),
            ("[::1]:1883", "::1", 1883),
            ("[fe80::1]:8883", "fe80::1", 8883),
        ]
    )
    func parse(address: String, host: String, port: Int) throws {
        let node = try #require(BalancerNode(address: address, weight: 3))
        #expect(node.host == host)
        #expect(node.port == port)
        #expect(node.weight == 3)
        #expect(node.priority == 0)
        #expect(node.address == address)
    }

    @Test("the address follows changes of host and port")
    func addressFollowsChanges() {
        var node = BalancerNode(host: "10.0.0.1", port: 1883)
        #expect(node.address == "10.0.0.1:1883")
        node.host = "::1"
        #expect(node.address == "[::1]:1883")
        node.port = 8883
        #expect(node.address == "[::1]:8883")
        #expect(node == BalancerNode(host: "::1", port: 8883))
    }

    @Test("malformed keys are refused", arguments: ["nohost", ":1883", "a:", "a:x", "a:70000", "a:0", "::1:1883", "[::1", "[::1]1883"])
    func refuse(address: String) {
        #expect(BalancerNode(address: address) == nil)
    }

    @Test("BalancerKind raw values are APISIX's type names")
    func kinds() {
        #expect(BalancerKind(rawValue: "least_conn") == .leastConn)
        #expect(BalancerKind(rawValue: "chash") == .chash)
        #expect(BalancerKind(rawValue: "roundrobin") == .roundrobin)
        #expect(BalancerKind(rawValue: "ewma") == nil)
    }

    @Test("NodeIndexSet works inline and past 64")
    func indexSet() {
        var set = NodeIndexSet()
        #expect(set.isEmpty)
        let inserted = [set.insert(3), set.insert(3), set.insert(63), set.insert(64), set.insert(200)]
        #expect(inserted == [true, false, true, true, true])
        #expect(set.contains(3) && set.contains(63) && set.contains(64) && set.contains(200))
        #expect(!set.contains(4) && !set.contains(65) && !set.contains(1_000) && !set.contains(-1))
        #expect(set.count == 4)
        #expect(set.sorted == [3, 63, 64, 200])
        set.removeAll()
        #expect(set.isEmpty && set.count == 0)
    }

    @Test("an upstream of 100 nodes tries each once")
    func largeUpstream() {
        let nodes = (0..<100).map { BalancerNode(host: "10.0.\($0 / 256).\($0 % 256)", port: 1883) }
        for kind in BalancerKind.allCases {
            let picked = pickAll(UpstreamBalancer(kind: kind, nodes: nodes), hashKey: "k")
            #expect(picked.sorted() == Array(0..<100))
        }
    }
}

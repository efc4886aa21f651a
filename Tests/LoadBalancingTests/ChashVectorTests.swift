import APISIXFixtures
import Foundation
import Testing
@testable import LoadBalancing

@Suite("APISIX chash vectors")
struct ChashVectorTests {
    @Test("the fixture has every case")
    func fixtureLoads() throws {
        #expect(try APISIXFixtures.chashVectors().count == 3)
    }

    @Test("placement matches APISIX", arguments: try APISIXFixtures.chashVectors())
    func placement(vector: ChashVector) throws {
        let nodes = try vector.nodes.keys.sorted().map { address in
            try #require(BalancerNode(address: address, weight: vector.nodes[address] ?? 1))
        }
        let balancer = UpstreamBalancer(kind: .chash, nodes: nodes)
        let index = try #require(balancer.place(hashKey: vector.key))
        #expect(nodes[index].address == vector.expect)

        let servers = vector.nodes.keys.sorted().map { (address: $0, weight: vector.nodes[$0] ?? 1) }
        let ring = ConsistentHashRing(servers: servers)
        let placed = try #require(ring.lookup(vector.key))
        #expect(servers[placed.node].address == vector.expect)
    }

    /// Ring positions computed independently (Python's zlib.crc32 over the same construction).
    @Test(
        "ring point index matches an independent computation",
        arguments: [("127.0.0.1", 276), ("f", 152), ("g", 4)]
    )
    func pointIndex(key: String, expectedPoint: Int) throws {
        let ring = ConsistentHashRing(servers: [("0.0.0.0:1995", 1), ("127.0.0.1:1995", 1)])
        #expect(ring.pointCount == 320)
        #expect(try #require(ring.lookup(key)).point == expectedPoint)
    }
}

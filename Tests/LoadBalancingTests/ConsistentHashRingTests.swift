import Testing
@testable import LoadBalancing

@Suite("Consistent-hash ring construction and lookup")
struct ConsistentHashRingTests {
    @Test("node id replaces every ':' with NUL, IPv6 included")
    func nodeIDs() {
        #expect(ConsistentHashRing.nodeID(forAddress: "127.0.0.1:1995") == Array("127.0.0.1\u{0}1995".utf8))
        #expect(ConsistentHashRing.nodeID(forAddress: "[::1]:1883") == Array("[\u{0}\u{0}1]\u{0}1883".utf8))
        #expect(BalancerNode(host: "::1", port: 1883).address == "[::1]:1883")
        #expect(BalancerNode(host: "[::1]", port: 1883).address == "[::1]:1883")
    }

    /// Values computed by hand from the definition with an independent CRC (Python's zlib):
    /// crc32("127.0.0.1\0" + "1995" + LE32(prev)).
    @Test("first points of a node follow the CRC chain")
    func handVerifiedPoints() {
        let id = ConsistentHashRing.nodeID(forAddress: "127.0.0.1:1995")
        let points = ConsistentHashRing.pointHashes(nodeID: id, count: 3)
        #expect(points == [0xE4A1_976A, 0x581D_85B1, 0x3C4D_D224])
        #expect(points[0] == referenceCRC32(id + [0, 0, 0, 0]))
        #expect(points[1] == referenceCRC32(id + [0x6A, 0x97, 0xA1, 0xE4]))
        #expect(CRC32.checksum(id) == 0xF8AF_E9C4)

        let otherID = ConsistentHashRing.nodeID(forAddress: "0.0.0.0:1995")
        let other = ConsistentHashRing.pointHashes(nodeID: otherID, count: 2)
        #expect(other == [0x0C43_E9B0, 0x65E0_1CE8])
    }

    @Test("every point of every node is on the ring, sorted")
    func pointsAreSortedAndComplete() {
        let nodes = equalNodes(3)
        let ring = ConsistentHashRing(nodes: nodes)
        #expect(ring.pointCount == 480)
        var expected: [UInt32] = []
        for node in nodes {
            let id = ConsistentHashRing.nodeID(forAddress: node.address)
            expected += ConsistentHashRing.pointHashes(nodeID: id, count: 160)
        }
        let onRing = (0..<ring.pointCount).map { ring.hash(ofPoint: $0) }
        #expect(onRing == expected.sorted())
        #expect((0..<ring.pointCount).filter { ring.node(ofPoint: $0) == 1 }.count == 160)
    }

    @Test("weights are divided by their GCD", arguments: [[2, 4], [3, 6], [100, 200], [1, 2]])
    func gcdReduction(weights: [Int]) {
        let ring = ConsistentHashRing(servers: [("10.0.0.1:1883", weights[0]), ("10.0.0.2:1883", weights[1])])
        let reference = ConsistentHashRing(servers: [("10.0.0.1:1883", 1), ("10.0.0.2:1883", 2)])
        #expect(ring.reducedWeights == [1, 2])
        #expect(ring.pointsPerNode == [160, 320])
        let hashes = (0..<ring.pointCount).map(ring.hash(ofPoint:))
        #expect(hashes == (0..<reference.pointCount).map(reference.hash(ofPoint:)))
    }

    @Test("equal weights of any size give the same ring as weight 1")
    func equalLargeWeights() {
        let ring = ConsistentHashRing(servers: [("a:1", 7), ("b:1", 7)])
        #expect(ring.pointCount == 320)
    }

    @Test("weight 0 gets no points; all zero gives an empty ring")
    func zeroWeights() {
        let ring = ConsistentHashRing(servers: [("a:1", 0), ("b:1", 2), ("c:1", 4)])
        #expect(ring.reducedWeights == [0, 1, 2])
        #expect(ring.pointsPerNode == [0, 160, 320])
        #expect(!(0..<ring.pointCount).contains { ring.node(ofPoint: $0) == 0 })

        let empty = ConsistentHashRing(servers: [("a:1", 0), ("b:1", 0)])
        #expect(empty.isEmpty)
        #expect(empty.lookup("anything") == nil)
        #expect(ConsistentHashRing(servers: []).lookup(hash: 0) == nil)
    }

    @Test("lookup is the first point ≥ the key's hash, wrapping to point 0")
    func lookupIsLowerBoundWithWrap() throws {
        let ring = ConsistentHashRing(nodes: equalNodes(2))
        let hashes = (0..<ring.pointCount).map(ring.hash(ofPoint:))
        var generator = SplitMix64(seed: 3)
        for _ in 0..<2_000 {
            let hash = UInt32.random(in: .min ... .max, using: &generator)
            let expected = hashes.firstIndex { $0 >= hash } ?? 0
            let found = try #require(ring.lookup(hash: hash))
            #expect(found.point == expected)
            #expect(found.node == ring.node(ofPoint: expected))
        }
        for point in [0, 17, ring.pointCount - 1] {
            #expect(ring.lookup(hash: hashes[point])?.point == point)
        }
        #expect(ring.lookup(hash: hashes[ring.pointCount - 1] &+ 1)?.point == 0)
        #expect(ring.lookup(hash: 0)?.point == 0)
    }

    @Test("lookup of a string hashes its UTF-8 bytes")
    func lookupString() {
        let ring = ConsistentHashRing(nodes: equalNodes(4))
        for key in ["", "f", "client-ü-1", "127.0.0.1"] {
            #expect(ring.lookup(key)?.point == ring.lookup(hash: CRC32.checksum(Array(key.utf8)))?.point)
        }
    }

    @Test("next walks point by point and wraps")
    func nextWraps() {
        let ring = ConsistentHashRing(nodes: equalNodes(2))
        #expect(ring.next(after: 0).point == 1)
        let last = ring.next(after: ring.pointCount - 1)
        #expect(last.point == 0)
        #expect(last.node == ring.node(ofPoint: 0))
    }

    @Test("node order breaks hash ties")
    func tiesKeepNodeOrder() {
        // The same address twice produces identical point hashes: node 0's copy must come first.
        let ring = ConsistentHashRing(servers: [("10.0.0.1:1883", 1), ("10.0.0.1:1883", 1)])
        for point in stride(from: 0, to: ring.pointCount, by: 2) {
            #expect(ring.hash(ofPoint: point) == ring.hash(ofPoint: point + 1))
            #expect(ring.node(ofPoint: point) == 0)
            #expect(ring.node(ofPoint: point + 1) == 1)
        }
        #expect(ring.lookup(hash: ring.hash(ofPoint: 10))?.node == 0)
    }
}

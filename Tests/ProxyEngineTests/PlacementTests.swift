import LoadBalancing
import NIOPosix
import ProxyEngine
import ProxyModel
import ProxyTestSupport
import Testing
import ProxyControl

/// A route whose nodes all refuse connections.
func deadRoute(type: String, _ ports: [ClosedPort]) -> JSONValue {
    var upstream: JSONValue = [
        "type": .string(type),
        "nodes": .array(ports.map { ["host": .string($0.host), "port": .int($0.port), "weight": 1] }),
    ]
    if type == "chash" { upstream["key"] = "mqtt_client_id" }
    return ["plugins": ["mqtt-proxy": ["protocol_level": 4]], "upstream": upstream]
}

@Suite("Placement, fallback and retries through the engine")
struct PlacementTests {
    /// Connects with `clientID` and returns the address of the node that got the CONNECT.
    func place(_ proxy: ProxyHarness, _ nodes: [RecordingUpstream], clientID: String, level: UInt8 = 4,
               from ip: String? = nil) async throws -> String?
    {
        let before = nodes.map { $0.connections.count }
        let client = try await proxy.client(from: ip)
        try await client.send(ConnectBytes.make(clientID: clientID, level: level))
        _ = await client.waitForBytes(11)
        await client.close()
        for (i, n) in nodes.enumerated() where n.connections.count > before[i] { return n.address }
        return nil
    }

    @Test func everyClientIDLandsWhereTheRingSays() async throws {
        try await withEventLoopGroup { group in
            var nodes: [RecordingUpstream] = []
            for host in ["127.0.0.1", "127.0.0.2", "127.0.0.3"] {
                nodes.append(try await RecordingUpstream.start(host: host, group: group))
            }
            let proxy = try await ProxyHarness.start(
                resources: .with(routes: [("1", mqttRoute(nodes: nodes, weights: [1, 2, 1]))]), group: group)
            // 30 ids, plus (since node ports, and so the ring, change from run to run) one id per node that
            // the ring sends there, so every node is exercised.
            var ids = (0..<30).map { "sensor-\($0)" }
            for n in nodes {
                if let id = (0..<1000).map({ "extra-\($0)" }).first(where: {
                    predictedNode($0, nodes, weights: [1, 2, 1]) == n.address
                }) { ids.append(id) }
            }
            var seen: Set<String> = []
            for id in ids {
                let got = try await place(proxy, nodes, clientID: id)
                #expect(got == predictedNode(id, nodes, weights: [1, 2, 1]), "client \(id)")
                if let got { seen.insert(got) }
            }
            #expect(seen.count == 3)
            // The same id lands on the same node every time.
            let first = try await place(proxy, nodes, clientID: "sticky")
            for _ in 0..<3 { #expect(try await place(proxy, nodes, clientID: "sticky") == first) }
            await proxy.stop()
            for n in nodes { await n.stop() }
        }
    }

    @Test func emptyClientIDFallsBackToTheClientAddress() async throws {
        try await withEventLoopGroup { group in
            let nodes = [try await RecordingUpstream.start(host: "127.0.0.1", group: group),
                         try await RecordingUpstream.start(host: "127.0.0.2", group: group)]
            let proxy = try await ProxyHarness.start(
                resources: .with(routes: [("1", mqttRoute(level: 5, nodes: nodes))]), group: group)
            for last in 10..<22 {
                let ip = "127.0.0.\(last)"
                let got = try await place(proxy, nodes, clientID: "", level: 5, from: ip)
                #expect(got == predictedNode(ip, nodes), "client address \(ip)")
            }
            let snap = proxy.engine.snapshot()
            #expect(snap.routes.first?.total == 12)
            await proxy.stop()
            for n in nodes { await n.stop() }
        }
    }

    @Test func aRefusedNodeIsRetriedOnTheNextRingNode() async throws {
        try await withEventLoopGroup { group in
            let live = [try await RecordingUpstream.start(host: "127.0.0.1", group: group),
                        try await RecordingUpstream.start(host: "127.0.0.2", group: group)]
            let dead = try ClosedPort()
            defer { dead.release() }
            let addresses = live.map(\.address) + [dead.address]
            var route = mqttRoute(nodes: live)
            route["upstream"]?["nodes"] = .array(addresses.map { a in
                let endpoint = HostPort(a)!
                let (h, p) = (endpoint.host, endpoint.port)
                return ["host": .string(h), "port": .int(p), "weight": 1]
            })
            let proxy = try await ProxyHarness.start(resources: .with(routes: [("1", route)]), group: group)
            let ring = ConsistentHashRing(servers: addresses.map { ($0, 1) })
            var retried = 0
            for i in 0..<40 {
                let id = "client-\(i)"
                let first = ring.lookup(id)!
                var expected = addresses[first.node]
                if expected == dead.address {
                    var p = ring.next(after: first.point)
                    while addresses[p.node] == dead.address { p = ring.next(after: p.point) }
                    expected = addresses[p.node]
                    retried += 1
                }
                #expect(try await place(proxy, live, clientID: id) == expected, "client \(id)")
            }
            #expect(retried > 0)
            let snap = proxy.engine.snapshot()
            #expect(snap.routes.first?.connectFailures == retried)
            #expect(snap.nodes.first { $0.node == dead.address }?.connectFailures == retried)
            #expect(snap.events.contains { $0.kind == .retry })
            await proxy.stop()
            for n in live { await n.stop() }
        }
    }

    @Test func allNodesDownClosesAndCounts() async throws {
        try await withEventLoopGroup { group in
            let dead = [try ClosedPort(), try ClosedPort()]
            defer { dead.forEach { $0.release() } }
            let route = deadRoute(type: "chash", dead)
            let proxy = try await ProxyHarness.start(resources: .with(routes: [("1", route)]), group: group)
            let client = try await proxy.client()
            try await client.send(ConnectBytes.make(clientID: "x"))
            #expect(await client.waitForClose())
            let snap = proxy.engine.snapshot()
            #expect(snap.routes.first?.rejected[RejectReason.upstreamUnavailable] == 1)
            #expect(snap.routes.first?.connectFailures == 2)
            await proxy.stop()
        }
    }

    @Test func retriesAreBoundedByTheRetriesSetting() async throws {
        try await withEventLoopGroup { group in
            let dead = [try ClosedPort(), try ClosedPort(), try ClosedPort()]
            defer { dead.forEach { $0.release() } }
            var route = deadRoute(type: "roundrobin", dead)
            route["upstream"]?["retries"] = 1
            let proxy = try await ProxyHarness.start(resources: .with(routes: [("1", route)]), group: group)
            let client = try await proxy.client()
            try await client.send(ConnectBytes.make(clientID: "x"))
            #expect(await client.waitForClose())
            #expect(proxy.engine.snapshot().routes.first?.connectFailures == 2)
            await proxy.stop()
        }
    }

    @Test func roundRobinFollowsTheWeights() async throws {
        try await withEventLoopGroup { group in
            let nodes = [try await RecordingUpstream.start(host: "127.0.0.1", group: group),
                         try await RecordingUpstream.start(host: "127.0.0.2", group: group)]
            let route = mqttRoute(type: "roundrobin", nodes: nodes, weights: [3, 1])
            let proxy = try await ProxyHarness.start(resources: .with(routes: [("1", route)]), group: group)
            for i in 0..<40 { _ = try await place(proxy, nodes, clientID: "c\(i)") }
            #expect(nodes[0].connections.count == 30)
            #expect(nodes[1].connections.count == 10)
            await proxy.stop()
            for n in nodes { await n.stop() }
        }
    }

    @Test func leastConnPrefersTheQuieterNode() async throws {
        try await withEventLoopGroup { group in
            let nodes = [try await RecordingUpstream.start(host: "127.0.0.1", group: group),
                         try await RecordingUpstream.start(host: "127.0.0.2", group: group)]
            let route = mqttRoute(type: "least_conn", nodes: nodes)
            let proxy = try await ProxyHarness.start(resources: .with(routes: [("1", route)]), group: group)
            var held: [TestClient] = []
            for i in 0..<6 {
                let c = try await proxy.client()
                try await c.send(ConnectBytes.make(clientID: "held-\(i)"))
                _ = await c.waitForBytes(11)
                held.append(c)
            }
            #expect(nodes[0].openCount == 3 && nodes[1].openCount == 3)
            // Free up node 0: the next clients go there until it is level again.
            let onFirst = held.prefix(6).enumerated().filter { i, _ in
                nodes[0].clientIDs.contains("held-\(i)")
            }.map(\.element)
            for c in onFirst { await c.close() }
            #expect(await eventually { proxy.engine.snapshot().connections.count == 3 })
            for i in 0..<3 {
                let c = try await proxy.client()
                try await c.send(ConnectBytes.make(clientID: "new-\(i)"))
                _ = await c.waitForBytes(11)
                held.append(c)
            }
            let onNode0 = proxy.engine.snapshot().connections.filter { $0.node == nodes[0].address }
            #expect(onNode0.count == 3)
            for c in held { await c.close() }
            await proxy.stop()
            for n in nodes { await n.stop() }
        }
    }
}

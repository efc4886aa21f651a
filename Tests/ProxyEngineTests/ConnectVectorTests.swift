import Foundation
import LoadBalancing
import NIOPosix
import ProxyEngine
import ProxyModel
import ProxyTestSupport
import Testing
import ProxyControl

@Suite("APISIX CONNECT vectors through the engine")
struct ConnectVectorTests {
    @Test(arguments: try APISIXFixtures.connectVectors())
    func vector(_ v: ConnectVector) async throws {
        try await withEventLoopGroup { group in try await run(v, group: group) }
    }

    func run(_ v: ConnectVector, group: MultiThreadedEventLoopGroup) async throws {
        let a = try await RecordingUpstream.start(host: "127.0.0.1", group: group)
        let b = try await RecordingUpstream.start(host: "127.0.0.2", group: group)
        let input = v.bytes

        guard let level = v.protocolLevel else {
            // "route does not match": the route wants another server port; the proxy closes without a word.
            let route = mqttRoute(nodes: [a], extra: ["server_port": 1, "remote_addr": "127.0.0.1"])
            let proxy = try await ProxyHarness.start(resources: .with(routes: [("1", route)]), group: group)
            let client = try await proxy.client()
            try? await client.send(input)  // the proxy may already have closed
            #expect(await client.waitForClose())
            #expect(client.received.bytes.isEmpty)
            #expect(proxy.engine.snapshot().totalRejected == 1)
            await proxy.stop()
            return
        }
        // Two-node chash cases check placement; the others go to one node.
        let twoNodes = v.expect.contains("proxied to")
        let nodes = twoNodes ? [a, b] : [a]
        let type = v.name.contains("(roundrobin)") ? "roundrobin" : "chash"
        var route = mqttRoute(level: Int(level), name: v.protocolName ?? "MQTT", type: type, nodes: nodes)
        route["remote_addr"] = "127.0.0.1"
        var upstreams: [(String, JSONValue)] = []
        if v.name.contains("upstream_id") {
            upstreams = [("1", route["upstream"]!)]
            route = ["remote_addr": "127.0.0.1", "upstream_id": "1", "plugins": route["plugins"]!]
        }
        if v.name.contains("'localhost'") || v.name.contains("'loc'") {
            let host = v.name.contains("'localhost'") ? "localhost" : "loc"
            route["upstream"]?["nodes"] = [["host": .string(host), "port": .int(a.port), "weight": 1]]
        }
        let resolver = NodeResolver { host in
            host == "localhost" ? .address("127.0.0.1") : .failure("failed to parse domain: \(host), error: unknown")
        }
        if v.expect.hasPrefix("closed") {
            let proxy = try await ProxyHarness.start(resources: .with(routes: [("1", route)]), group: group,
                                                     resolver: resolver)
            let client = try await proxy.client()
            try await client.send(input)
            #expect(await client.waitForClose())
            #expect(client.received.bytes.isEmpty)
            #expect(proxy.engine.snapshot().routes.first?.rejected[RejectReason.noNode] == 1)
            await proxy.stop()
            return
        }
        let proxy = try await ProxyHarness.start(resources: .with(routes: [("1", route)], upstreams: upstreams),
                                                 group: group, resolver: resolver)
        let client = try await proxy.client()
        try await client.send(input)
        let reply = await client.waitForBytes(11)
        #expect(String(decoding: reply, as: UTF8.self) == "hello world")
        let expectedID = (v.clientID ?? "").isEmpty ? nil : v.clientID
        let all = a.clientIDs + b.clientIDs
        #expect(all == [expectedID])
        // The CONNECT reached the broker byte for byte.
        #expect((a.connections + b.connections).first { !$0.bytes.isEmpty }?.bytes == input)
        if twoNodes {
            let key = expectedID ?? "127.0.0.1"
            let chosen = a.clientIDs.isEmpty ? b.address : a.address
            #expect(chosen == predictedNode(key, nodes))
        }
        await client.close()
        await proxy.stop()
        await a.stop()
        await b.stop()
    }
}

import AdminAPI
import Foundation
import HummingbirdTesting
import NIOPosix
import ProxyControl
import ProxyEngine
import ProxyModel
import Prometheus
import ProxyTestSupport
import Testing

@Suite("Admin API: /v1/nodes and drains")
struct NodeRoutesTests {
    @Test func nodesAreListedAndDrainedThroughTheAPI() async throws {
        try await withEventLoopGroup { group in
            let live = try await LiveStatusTests().start(group: group, count: 4)
            let rig = try await AdminRig(engine: live.proxy.engine, metrics: live.metrics)
            defer { rig.cleanup() }
            let node = live.nodes[0].address
            try await rig.app.test(.router) { client in
                let list = try await client.call(.get, "/v1/nodes")
                #expect(list.status == .ok)
                #expect(list.json?["total"] == 2)
                guard case .array(let nodes)? = list.json?["nodes"] else {
                    Issue.record("no nodes: \(list.text)")
                    return
                }
                let first = try #require(nodes.first { $0["node"]?.stringValue == node })
                #expect(first["healthy"] == true)
                #expect(first["state"] == "unchecked")
                #expect(first["draining"] == false)
                #expect(first["upstreams"] == ["route 1"])
                #expect(first["active"]?.intValue == live.nodes[0].openCount)

                let drained = try await client.call(.post, "/v1/nodes/\(node)/drain",
                                                    json: ["server_reference": "mqtt-2:1883"])
                #expect(drained.status == .ok, "\(drained.text)")
                #expect(drained.json?["node"]?["draining"] == true)
                #expect(drained.json?["node"]?["drain"]?["server_reference"] == "mqtt-2:1883")
                #expect(drained.json?["node"]?["drain"]?["evict_per_second"] == .null)
                // A viewer may look but not drain.
                let viewer = try await client.call(.post, "/v1/nodes/\(node)/drain", key: viewerKey, body: "{}")
                #expect(viewer.status == .unauthorized)
                #expect(try await client.call(.get, "/v1/nodes/\(node)", key: viewerKey).json?["node"]?["draining"] == true)

                #expect(try await client.call(.post, "/v1/nodes/\(node)/drain", json: ["evict_per_second": 0]).status
                        == .badRequest)
                let unknownField = try await client.call(.post, "/v1/nodes/\(node)/drain", json: ["rate": 5])
                #expect(unknownField.status == .badRequest)
                #expect(unknownField.json?["error_msg"]?.stringValue?.contains("rate") == true)
                #expect(try await client.call(.post, "/v1/nodes/10.9.9.9:1/drain", body: "").status == .notFound)
                #expect(try await client.call(.post, "/v1/nodes/not-a-node/drain", body: "").status == .badRequest)

                let ended = try await client.call(.delete, "/v1/nodes/\(node)/drain")
                #expect(ended.status == .ok)
                #expect(ended.json?["node"]?["draining"] == false)
                #expect(try await client.call(.delete, "/v1/nodes/\(node)/drain").status == .notFound)
            }
            await LiveStatusTests().stop(live)
        }
    }

    @Test func drainingMovesNewClientsAndTheLogSaysSo() async throws {
        try await withEventLoopGroup { group in
            let live = try await LiveStatusTests().start(group: group, count: 0)
            let engine = live.proxy.engine
            let node = live.nodes[0].address
            _ = try await engine.drain(node: node, evictPerSecond: nil, serverReference: nil)
            for i in 0..<20 {
                let c = try await live.proxy.client()
                try await c.send(ConnectBytes.make(clientID: "new-\(i)"))
                _ = await c.waitForBytes(11)
                await c.close()
            }
            #expect(live.nodes[0].openCount == 0 && live.nodes[0].clientIDs.isEmpty)
            #expect(engine.snapshot().events.contains { $0.kind == .health && $0.message.contains("drain started") })
            await live.proxy.stop()
            for n in live.nodes { await n.stop() }
        }
    }
}

@Suite("Admin API: health in /v1/nodes and /metrics")
struct HealthStatusTests {
    @Test func aRefusingNodeIsUnhealthyInNodesAndMetrics() async throws {
        try await withEventLoopGroup { group in
            let up = try await RecordingUpstream.start(greeting: .connack, group: group)
            let closed = try ClosedPort()
            defer { closed.release() }
            let route: JSONValue = [
                "plugins": ["mqtt-proxy": ["protocol_level": 4]],
                "upstream": ["type": "roundrobin", "nodes": .object([up.address: 1, closed.address: 1]),
                             "checks": ["active": ["type": "tcp", "timeout": 0.5,
                                                   "unhealthy": ["interval": 1, "tcp_failures": 2]]]],
            ]
            let registry = PrometheusCollectorRegistry()
            let proxy = try await ProxyHarness.start(
                resources: .with(routes: [("1", route)]), group: group,
                metrics: EngineMetrics(factory: PrometheusMetricsFactory(registry: registry)))
            let client = try await proxy.client()
            try await client.send(ConnectBytes.make(clientID: "first-user"))
            _ = await client.waitForBytes(4)
            #expect(await until(proxy.engine, timeout: 10) { snap in
                snap.health.first { $0.node == closed.address }?.healthy == false
            })
            let rig = try await AdminRig(engine: proxy.engine, metrics: registry)
            defer { rig.cleanup() }
            try await rig.app.test(.router) { http in
                let node = try await http.call(.get, "/v1/nodes/\(closed.address)")
                #expect(node.json?["node"]?["healthy"] == false)
                #expect(node.json?["node"]?["state"] == "unhealthy")
                #expect(node.json?["node"]?["check"] == "tcp")
                #expect(node.json?["node"]?["reason"]?.stringValue?.contains("connect failed") == true, "\(node.text)")
                let metrics = try await http.call(.get, "/metrics").text
                #expect(metrics.contains("mqtt_proxy_node_healthy{node=\"\(closed.address)\"} 0"), "\(metrics)")
                #expect(metrics.contains("mqtt_proxy_health_checks_total{node=\"\(closed.address)\",type=\"tcp\",result=\"tcp_failure\"}"))
                #expect(metrics.contains("mqtt_proxy_health_checks_total{node=\"\(up.address)\",type=\"tcp\",result=\"success\"}"))
            }
            await client.close()
            await proxy.stop()
            await up.stop()
        }
    }
}

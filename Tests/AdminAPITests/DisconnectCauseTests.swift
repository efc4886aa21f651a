import AdminAPI
import Foundation
import HummingbirdTesting
import NIOCore
import NIOPosix
import Prometheus
import ProxyControl
import ProxyEngine
import ProxyModel
import ProxyTestSupport
import Testing

/// The `nodes` of `/v1/routes/stats`.
private func nodeStats(_ client: some TestClientProtocol) async throws -> [JSONValue] {
    let stats = try await client.call(.get, "/v1/routes/stats")
    guard case .array(let nodes)? = stats.json?["nodes"] else {
        Issue.record("no nodes in \(stats.text)")
        return []
    }
    return nodes
}

/// Every way a relay can end, produced once each, and what the broker answered, seen in `/v1` and `/metrics`.
@Suite("Admin API: why relays ended and what brokers answered")
struct DisconnectCauseTests {
    let pki = TLSFixture.shared

    @Test func eachDisconnectCauseOnceInV1AndMetrics() async throws {
        try await withEventLoopGroup { group in
            let node = try await RecordingUpstream.start(greeting: .connack, group: group)
            // One route per SNI: "broker.example.com" idles out after 0.3 s, "mqtt.example.com" does not.
            let routes: [(String, JSONValue)] = [
                ("main", ["sni": "mqtt.example.com", "plugins": ["mqtt-proxy": ["protocol_level": 4]],
                          "upstream": ["nodes": .object([node.address: 1])]]),
                ("idle", ["sni": "broker.example.com", "plugins": ["mqtt-proxy": ["protocol_level": 4]],
                          "upstream": ["nodes": .object([node.address: 1]),
                                       "timeout": ["connect": 1, "send": 0.3, "read": 0.3]]]),
            ]
            let registry = PrometheusCollectorRegistry()
            let proxy = try await ProxyHarness.start(
                resources: try .with(ssls: pki.ssls(mtls: false), routes: routes), group: group,
                metrics: EngineMetrics(factory: PrometheusMetricsFactory(registry: registry)), tls: true)
            let engine = proxy.engine

            /// A relayed TLS client of `sni` (keep-alive 0, so only the upstream's idle limit applies).
            func relayed(_ id: String, sni: String = "mqtt.example.com") async throws -> ProxyTestSupport.TestClient {
                let client = try await proxy.client(tls: pki.options(sni: sni))
                #expect(await client.waitForHandshake())
                try await client.send(ConnectBytes.make(clientID: id, keepAlive: 0))
                #expect(await client.waitForBytes(4).count == 4, "\(id) got its CONNACK")
                return client
            }
            var ended = 0
            /// Waits until `ended` relays have ended.
            func waitEnded() async {
                ended += 1
                let want = ended
                #expect(await eventually { engine.snapshot().routes.reduce(0) { $0 + $1.disconnects.values.reduce(0, +) } == want },
                        "relay \(want) ended")
            }

            let a = try await relayed("client-closes")
            await a.close()
            await waitEnded()
            let b = try await relayed("client-resets")
            await b.reset()
            await waitEnded()
            _ = try await relayed("broker-closes")
            await node.closeAll()
            await waitEnded()
            _ = try await relayed("broker-resets")
            await node.resetAll()
            await waitEnded()
            _ = try await relayed("sleepy", sni: "broker.example.com")
            await waitEnded()
            _ = try await relayed("operator-target")
            let id = try #require(engine.snapshot().connections.first?.id)
            #expect(engine.disconnect(connectionID: id))
            await waitEnded()
            let g = try await relayed("garbage-under-tls")
            try await g.sendBelowTLS(Array("definitely not a TLS record".utf8))
            await waitEnded()
            _ = try await relayed("until-shutdown")
            await engine.shutDown()
            await waitEnded()

            let snap = engine.snapshot()
            var total: [DisconnectCause: Int] = [:]
            for route in snap.routes { total.merge(route.disconnects, uniquingKeysWith: +) }
            #expect(total == Dictionary(uniqueKeysWithValues: DisconnectCause.allCases.map { ($0, 1) }),
                    "\(total)")
            #expect(snap.routes.first { $0.routeID == "idle" }?.disconnects == [.idleTimeout: 1])
            #expect(snap.nodes.first?.disconnects.count == DisconnectCause.allCases.count)

            let rig = try await AdminRig(engine: engine, metrics: registry)
            defer { rig.cleanup() }
            try await rig.app.test(.router) { client in
                let nodes = try await nodeStats(client)
                let causes = nodes.first?["disconnects"]?.objectValue ?? [:]
                #expect(Set(causes.keys) == Set(DisconnectCause.allCases.map(\.rawValue)))
                #expect(nodes.first?["broker_connacks"]?["0x00"] == 8)
                let metrics = try await client.call(.get, "/metrics", key: nil).text
                for cause in DisconnectCause.allCases {
                    #expect(metrics.split(separator: "\n").contains { line in
                        line.hasPrefix("mqtt_proxy_disconnects_total{") && line.contains("cause=\"\(cause.rawValue)\"")
                            && line.hasSuffix(" 1")
                    }, "mqtt_proxy_disconnects_total for \(cause.rawValue)")
                }
                #expect(metrics.contains("mqtt_proxy_broker_connack_total{node=\"\(node.address)\",code=\"0x00\"} 8"))
            }
            await node.stop()
        }
    }

    @Test func aBrokerRefusingWithNotAuthorizedIsCountedPerNodeAndLogged() async throws {
        try await withEventLoopGroup { group in
            let node = try await RecordingUpstream.start(greeting: .refuse(0x05), group: group)
            let route: JSONValue = ["plugins": ["mqtt-proxy": ["protocol_level": 4]],
                                    "upstream": ["nodes": .object([node.address: 1])]]
            let registry = PrometheusCollectorRegistry()
            let proxy = try await ProxyHarness.start(
                resources: .with(routes: [("1", route)]), group: group,
                metrics: EngineMetrics(factory: PrometheusMetricsFactory(registry: registry)))
            let client = try await proxy.client()
            try await client.send(ConnectBytes.make(clientID: "intruder"))
            #expect(await client.waitForBytes(4) == [0x20, 0x02, 0x00, 0x05])
            #expect(await client.waitForClose())
            #expect(await eventually { proxy.engine.snapshot().nodes.first?.connacks == [5: 1] })
            let refused = proxy.engine.snapshot().events.first { $0.kind == .brokerRefused }
            #expect(refused?.message == "broker refused the client: CONNACK 0x05 not authorized")
            #expect(refused?.clientID == "intruder")
            let rig = try await AdminRig(engine: proxy.engine, metrics: registry)
            defer { rig.cleanup() }
            try await rig.app.test(.router) { client in
                let nodes = try await nodeStats(client)
                #expect(nodes.first?["broker_connacks"] == ["0x05": 1])
                let metrics = try await client.call(.get, "/metrics", key: nil).text
                #expect(metrics.contains("mqtt_proxy_broker_connack_total{node=\"\(node.address)\",code=\"0x05\"} 1"))
            }
            await proxy.stop()
            await node.stop()
        }
    }
}

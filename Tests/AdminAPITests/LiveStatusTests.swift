import AdminAPI
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LoadBalancing
import NIOPosix
import Prometheus
import ProxyEngine
import ProxyModel
import ProxyTestSupport
import RouteStore
import Testing
import ProxyControl

@Suite("Admin API: live status, metrics and dry runs over a running engine")
struct LiveStatusTests {
    /// An engine with Prometheus metrics, two recording brokers and `count` held MQTT clients.
    struct Live {
        var proxy: ProxyHarness
        var nodes: [RecordingUpstream]
        var clients: [ProxyTestSupport.TestClient]
        var metrics: PrometheusCollectorRegistry
    }

    func start(group: MultiThreadedEventLoopGroup, count: Int) async throws -> Live {
        let nodes = [try await RecordingUpstream.start(host: "127.0.0.1", group: group),
                     try await RecordingUpstream.start(host: "127.0.0.2", group: group)]
        let route: JSONValue = [
            "plugins": ["mqtt-proxy": ["protocol_level": 4]],
            "upstream": ["type": "chash", "key": "mqtt_client_id",
                         "nodes": .object([nodes[0].address: 1, nodes[1].address: 1])],
        ]
        let registry = PrometheusCollectorRegistry()
        let metrics = EngineMetrics(factory: PrometheusMetricsFactory(registry: registry))
        var settings = EngineSettings()
        settings.eventBufferSize = 1000
        let engine = try await ProxyHarness.start(resources: .with(routes: [("1", route)]), settings: settings,
                                                  group: group, metrics: metrics)
        var clients: [ProxyTestSupport.TestClient] = []
        for i in 0..<count {
            let c = try await engine.client()
            try await c.send(ConnectBytes.make(clientID: "dev-\(i)"))
            _ = await c.waitForBytes(11)
            clients.append(c)
        }
        return Live(proxy: engine, nodes: nodes, clients: clients, metrics: registry)
    }

    func stop(_ live: Live) async {
        for c in live.clients { await c.close() }
        await live.proxy.stop()
        for n in live.nodes { await n.stop() }
    }

    @Test func statusEndpointsShowTheLiveConnections() async throws {
        try await withEventLoopGroup { group in
            let live = try await start(group: group, count: 6)
            let rig = try await AdminRig(engine: live.proxy.engine, metrics: live.metrics)
            defer { rig.cleanup() }
            try await rig.app.test(.router) { client in
                let conns = try await client.call(.get, "/v1/connections")
                #expect(conns.json?["total"] == 6)
                let first = conns.json?["connections"].flatMap { if case .array(let a) = $0 { a.first } else { nil } }
                #expect(first?["client_id"]?.stringValue?.hasPrefix("dev-") == true)
                #expect(first?["route_id"] == "1")
                #expect(first?["protocol_level"] == 4)
                #expect(first?["bytes_out"] == 11)
                let filtered = try await client.call(.get, "/v1/connections?client_id=dev-1")
                #expect(filtered.json?["total"] == 1)
                let byNode = try await client.call(.get, "/v1/connections?node=\(live.nodes[0].address)")
                #expect(byNode.json?["total"]?.intValue == live.nodes[0].openCount)

                let mappings = try await client.call(.get, "/v1/mappings")
                #expect(mappings.json?["total"] == 6)
                let counts = (mappings.json?["nodes"]?.objectValue ?? [:]).values.compactMap(\.intValue)
                #expect(counts.reduce(0, +) == 6)

                let stats = try await client.call(.get, "/v1/routes/stats")
                let route = stats.json?["routes"].flatMap { if case .array(let a) = $0 { a.first } else { nil } }
                #expect(route?["active"] == 6 && route?["total"] == 6)

                let events = try await client.call(.get, "/v1/events?since=0")
                let next = try #require(events.json?["next"]?.intValue)
                #expect(next >= 6)
                let none = try await client.call(.get, "/v1/events?since=\(next)")
                #expect(none.json?["events"] == .array([]))
                #expect(try await client.call(.get, "/v1/events?since=x").status == .badRequest)
                #expect(try await client.call(.get, "/v1/connections", key: nil).status == .unauthorized)

                let metrics = try await client.call(.get, "/metrics", key: nil)
                #expect(metrics.status == .ok)
                #expect(metrics.text.contains("mqtt_proxy_connections_total{"))
                #expect(metrics.text.contains("mqtt_proxy_connections_active{"))
                #expect(metrics.text.contains("mqtt_proxy_bytes_total{"))
                #expect(metrics.text.contains("mqtt_proxy_upstream_connect_seconds_bucket"))
                #expect(metrics.text.contains("mqtt_proxy_connect_preread_seconds_bucket"))
            }
            await stop(live)
        }
    }

    @Test func aDryRunCountsTheClientsThatWouldMoveAndChangesNothing() async throws {
        try await withEventLoopGroup { group in
            let live = try await start(group: group, count: 40)
            let rig = try await AdminRig(engine: live.proxy.engine)
            defer { rig.cleanup() }
            let third = "127.0.0.3:\(live.nodes[0].port)"
            let addresses = live.nodes.map(\.address)
            let proposed: JSONValue = [
                "plugins": ["mqtt-proxy": ["protocol_level": 4]],
                "upstream": ["type": "chash", "key": "mqtt_client_id",
                             "nodes": .object([addresses[0]: 1, addresses[1]: 1, third: 1])],
            ]
            // What the ring says: the clients whose key now maps to the third node.
            let after = ConsistentHashRing(servers: (addresses + [third]).map { ($0, 1) })
            let expected = (0..<40).filter { after.lookup("dev-\($0)")!.node == 2 }.count
            try await rig.app.test(.router) { client in
                let r = try await client.call(.put, "/apisix/admin/stream_routes/1?dry_run=true", json: proposed)
                #expect(r.status == .ok)
                #expect(r.json?["dry_run"] == true)
                #expect(r.json?["action"] == "create")
                #expect(r.json?["rebalance"]?["connected"] == 40)
                #expect(r.json?["rebalance"]?["moving"]?.intValue == expected)
                if case .array(let moves) = r.json?["rebalance"]?["moves"] ?? .null {
                    #expect(moves.allSatisfy { $0["to"]?.stringValue == third })
                }
                // Nothing was applied.
                #expect(try await client.call(.get, "/apisix/admin/stream_routes/1").status == .notFound)
                let invalid = try await client.call(.put, "/apisix/admin/stream_routes/1?dry_run=true",
                                                    json: ["upstream": ["type": "chash", "nodes": [:]]])
                #expect(invalid.status == .badRequest)
            }
            #expect(expected > 0)
            await stop(live)
        }
    }

    @Test func sslObjectsNeverShowTheirKey() async throws {
        let rig = try await AdminRig()
        defer { rig.cleanup() }
        let (pem, key) = try makeCertificate(cn: "mqtt.example.com", sans: ["mqtt.example.com"])
        let old = try makeCertificate(cn: "old.example.com", sans: ["old.example.com"],
                                      notBefore: Date(timeIntervalSince1970: 0),
                                      notAfter: Date(timeIntervalSince1970: 86400))
        try await rig.app.test(.router) { client in
            let put = try await client.call(.put, "/apisix/admin/ssls/1",
                                            json: ["cert": .string(pem), "key": .string(key), "snis": ["mqtt.example.com"]])
            #expect(put.status == .created)
            #expect(put.json?["value"]?["key"] == nil)
            let got = try await client.call(.get, "/apisix/admin/ssls/1")
            #expect(got.json?["value"]?["cert"]?.stringValue == pem)
            #expect(got.json?["value"]?["key"] == nil)
            #expect(!got.text.contains("PRIVATE KEY"))
            #expect(put.json?["warning"] == nil)
            let expired = try await client.call(.put, "/apisix/admin/ssls/2",
                                                json: ["cert": .string(old.cert), "key": .string(old.key),
                                                       "snis": ["old.example.com"]])
            #expect(expired.status == .created)
            #expect(expired.json?["warning"]?.stringValue?.contains("expired") == true)
            let mismatch = try await client.call(.put, "/apisix/admin/ssls/3",
                                                 json: ["cert": .string(pem), "key": .string(old.key),
                                                        "snis": ["mqtt.example.com"]])
            #expect(mismatch.status == .badRequest)
            #expect(mismatch.json?["error_msg"] == "key does not match the certificate")
        }
    }

    @Test func mTLSObjectsAreValidatedAndTLSConnectionsShowTheirDetails() async throws {
        try await withEventLoopGroup { group in
            let ca = try TestCA.root("fleet CA")
            let server = try ca.issue(cn: "mqtt.example.com", dns: ["mqtt.example.com"])
            let device = try ca.issue(cn: "device-42", dns: ["device-42.fleet"], ips: ["10.0.0.42"])
            let node = try await RecordingUpstream.start(group: group)
            var resources = try ProxyResources.with(routes: [("1", [
                "plugins": ["mqtt-proxy": ["protocol_level": 4]],
                "upstream": ["type": "roundrobin", "nodes": .object([node.address: 1])],
            ])])
            try resources.put(kind: .ssls, id: "s1", json: [
                "cert": .string(server.cert), "key": .string(server.key), "snis": ["mqtt.example.com"],
                "client": ["ca": .string(ca.cert), "depth": 1], "ssl_protocols": ["TLSv1.2", "TLSv1.3"],
            ], index: 50)
            let registry = PrometheusCollectorRegistry()
            let proxy = try await ProxyHarness.start(
                resources: resources, group: group,
                metrics: EngineMetrics(factory: PrometheusMetricsFactory(registry: registry)), tls: true)
            var options = TLSClientOptions(serverName: "mqtt.example.com", trustedCA: ca.cert).with(device)
            options.maximumVersion = .tlsv12
            let client = try await proxy.client(tls: options)
            #expect(await client.waitForHandshake())
            try await client.send(ConnectBytes.make(clientID: "dev-42"))
            _ = await client.waitForBytes(11)
            let rig = try await AdminRig(engine: proxy.engine, metrics: registry)
            defer { rig.cleanup() }
            try await rig.app.test(.router) { http in
                let metrics = try await http.call(.get, "/metrics")
                #expect(metrics.text.contains(#"mqtt_proxy_tls_handshakes_total{ssl="s1",version="TLSv1.2"} 1"#)
                        || metrics.text.contains(#"mqtt_proxy_tls_handshakes_total{version="TLSv1.2",ssl="s1"} 1"#),
                        "\(metrics.text)")
                #expect(metrics.text.contains("mqtt_proxy_tls_handshake_seconds_count 1"))
                let conns = try await http.call(.get, "/v1/connections")
                guard case .array(let items)? = conns.json?["connections"], let tls = items.first?["tls"] else {
                    Issue.record("no connection listed: \(conns.text)")
                    return
                }
                #expect(tls["version"]?.stringValue == "TLSv1.2")
                #expect(tls["sni"]?.stringValue == "mqtt.example.com")
                #expect(tls["ssl_id"]?.stringValue == "s1")
                #expect(tls["client_cn"]?.stringValue == "device-42")
                let sans: JSONValue = .array([.string("DNS:device-42.fleet"), .string("IP:10.0.0.42")])
                #expect(tls["client_sans"] == sans)
                let stats = try await http.call(.get, "/v1/routes/stats")
                #expect(stats.json?["tls_handshakes"]?.intValue == 1)

                let ok = try await http.call(.put, "/apisix/admin/ssls/2", json: [
                    "cert": .string(server.cert), "key": .string(server.key), "snis": ["mqtt.example.com"],
                    "client": ["ca": .string(ca.cert)],
                ])
                #expect(ok.status == .created)
                #expect(ok.json?["value"]?["client"]?["ca"]?.stringValue == ca.cert)
                #expect(ok.json?["value"]?["validity_end"]?.intValue == Int(server.certificate.notValidAfter.timeIntervalSince1970))
                let badCA = try await http.call(.put, "/apisix/admin/ssls/3", json: [
                    "cert": .string(server.cert), "key": .string(server.key), "snis": ["mqtt.example.com"],
                    "client": ["ca": "not a certificate"],
                ])
                #expect(badCA.status == .badRequest)
                #expect(badCA.json?["error_msg"]?.stringValue?.contains("client.ca") == true)
                let oldTLS = try await http.call(.put, "/apisix/admin/ssls/4", json: [
                    "cert": .string(server.cert), "key": .string(server.key), "snis": ["mqtt.example.com"],
                    "ssl_protocols": ["TLSv1.1"],
                ])
                #expect(oldTLS.status == .badRequest)
                #expect(oldTLS.json?["error_msg"]?.stringValue?.contains("ssl_protocols") == true)
                let noSNI = try await http.call(.put, "/apisix/admin/ssls/5", json: [
                    "cert": .string(server.cert), "key": .string(server.key), "snis": [],
                ])
                #expect(noSNI.status == .badRequest)
                #expect(noSNI.json?["error_msg"]?.stringValue?.contains("snis") == true)
            }
            await client.close()
            await proxy.stop()
            await node.stop()
        }
    }
}

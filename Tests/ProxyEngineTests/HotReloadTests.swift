import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOPosix
import ProxyEngine
import ProxyModel
import ProxyTestSupport
import RouteStore
import Testing

@Suite("Store hot reload through the engine service")
struct HotReloadTests {
    func storeText(node: RecordingUpstream, id: String = "1") -> String {
        """
        stream_routes:
          - id: \(id)
            plugins:
              mqtt-proxy:
                protocol_level: 4
            upstream:
              type: chash
              key: mqtt_client_id
              nodes:
                "\(node.address)": 1
        #END

        """
    }

    @Test func validEditsGoLiveAndInvalidOnesAreRefused() async throws {
        try await withEventLoopGroup { group in
            let first = try await RecordingUpstream.start(host: "127.0.0.1", group: group)
            let second = try await RecordingUpstream.start(host: "127.0.0.2", group: group)
            let dir = NSTemporaryDirectory() + "mqtt-proxy-reload-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let path = dir + "/apisix.yaml"
            try storeText(node: first).write(toFile: path, atomically: true, encoding: .utf8)

            var settings = EngineSettings()
            settings.storeWatchInterval = 0.05
            var logger = Logger(label: "reload-test")
            logger.logLevel = .critical
            let store = FileStore(path: path, logger: logger)
            try await store.load()
            let engine = ProxyEngine(settings: settings, group: group, logger: logger)
            let service = EngineService(engine: engine, store: store,
                                        listeners: [StreamListener(host: "127.0.0.1", port: 0)], logger: logger)
            let running = Task { try await service.run() }
            let bound = try #require(await service.listening.value()?.first)
            let p = try #require(HostPort(bound)).port

            // A relay opened before the change.
            let early = try await TestClient.connect(port: p, group: group)
            try await early.send(ConnectBytes.make(clientID: "early"))
            #expect(await early.waitForBytes(11).count == 11)
            #expect(first.clientIDs == ["early"])

            // A valid edit: new connections go to the second broker, the open one stays.
            try storeText(node: second).write(toFile: path, atomically: true, encoding: .utf8)
            #expect(await eventually { engine.routeTable.routes.first?.nodes.map(\.address) == [second.address] })
            let late = try await TestClient.connect(port: p, group: group)
            try await late.send(ConnectBytes.make(clientID: "late"))
            #expect(await late.waitForBytes(11).count == 11)
            #expect(second.clientIDs == ["late"])
            try await early.send([1, 2])
            #expect(await early.waitForBytes(13).suffix(2) == [1, 2])

            // An invalid edit is refused; the previous routes stay live and the rejection is visible.
            try "stream_routes:\n  - id: 1\n    server_port: 0\n#END\n".write(toFile: path, atomically: true,
                                                                            encoding: .utf8)
            #expect(await eventually {
                engine.snapshot().events.contains { $0.message.contains("store file rejected") }
            })
            let after = try await TestClient.connect(port: p, group: group)
            try await after.send(ConnectBytes.make(clientID: "after"))
            #expect(await after.waitForBytes(11).count == 11)
            #expect(second.clientIDs == ["late", "after"])

            for c in [early, late, after] { await c.close() }
            running.cancel()
            _ = try? await running.value
            await first.stop()
            await second.stop()
        }
    }

    @Test func dnsNamesAreResolvedAndUnresolvableNodesLeftOut() async throws {
        try await withEventLoopGroup { group in
            let node = try await RecordingUpstream.start(host: "127.0.0.1", group: group)
            let route: JSONValue = [
                "plugins": ["mqtt-proxy": ["protocol_level": 4]],
                "upstream": ["type": "chash", "key": "mqtt_client_id", "nodes": [
                    ["host": "localhost", "port": .int(node.port), "weight": 1],
                    ["host": "no-such-broker.invalid", "port": 1883, "weight": 1],
                ]],
            ]
            let resolver = NodeResolver { host in
                host == "localhost" ? .address("127.0.0.1") : .failure("failed to parse domain: \(host)")
            }
            let proxy = try await ProxyHarness.start(resources: .with(routes: [("1", route)]), group: group,
                                                     resolver: resolver)
            #expect(proxy.engine.routeTable.routes.first?.nodes.map(\.address) == [node.address])
            #expect(proxy.engine.snapshot().events.contains {
                $0.message.contains("failed to parse domain: no-such-broker.invalid")
            })
            let client = try await proxy.client()
            try await client.send(ConnectBytes.make(clientID: "dns"))
            #expect(await client.waitForBytes(11).count == 11)
            #expect(node.clientIDs == ["dns"])
            await client.close()
            await proxy.stop()
            await node.stop()
        }
    }

    @Test func theSystemResolverFindsLocalhost() {
        let outcome = NodeResolver().resolve("localhost")
        #expect(outcome == .address("127.0.0.1") || outcome == .address("::1"))
        #expect(NodeResolver().resolve("10.1.2.3") == .address("10.1.2.3"))
    }
}

import NIOCore
import NIOPosix
@testable import ProxyEngine
import ProxyModel
import ProxyTestSupport
import Testing

/// A `reuseport` listener binds one socket per event loop, and each keeps what it accepts on its own loop (so
/// a connection's set-up needs no hand-off between threads).
@Suite("reuseport listeners")
struct ReusePortTests {
    @Test func eachLoopAcceptsOnItsOwnSocketAndKeepsItsConnections() async throws {
        try await withEventLoopGroup { group in
            let node = try await RecordingUpstream.start(greeting: .connack, group: group)
            let proxy = try await ProxyHarness.start(
                resources: .with(routes: [("1", mqttRoute(type: "chash", key: "mqtt_client_id", nodes: [node]))]),
                group: group, listener: StreamListener(port: 0, reusePort: true))
            var clients: [TestClient] = []
            for n in 0..<24 {
                let client = try await proxy.client()
                try await client.send(ConnectBytes.make(clientID: "reuse-\(n)"))
                #expect(await client.waitForBytes(4).prefix(2) == [0x20, 0x02])
                clients.append(client)
            }
            let live = proxy.engine.registry.allLiveConnections().compactMap(\.channel)
            #expect(live.count == 24)
            var sockets = Set<ObjectIdentifier>()
            for channel in live {
                let parent = try #require(channel.parent)
                #expect(parent.eventLoop === channel.eventLoop)
                sockets.insert(ObjectIdentifier(parent))
            }
            // The kernel spreads connections over the two sockets by a hash of their addresses: 24 connections
            // all landing on one socket would happen once in 2^23 runs.
            #expect(sockets.count == 2)
            for client in clients { await client.close() }
            await proxy.stop()
            await node.stop()
        }
    }
}

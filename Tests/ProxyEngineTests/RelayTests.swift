import Foundation
import NIOPosix
import ProxyEngine
import ProxyModel
import ProxyTestSupport
import Testing

@Suite("Relay: bytes, half-close, idle timeout, live registry, drain")
struct RelayTests {
    @Test func connectAndPipelinedBytesReachTheBrokerUntouched() async throws {
        try await withEventLoopGroup { group in
            let node = try await RecordingUpstream.start(group: group)
            let proxy = try await ProxyHarness.start(
                resources: .with(routes: [("1", mqttRoute(level: 5, type: "roundrobin", nodes: [node]))]), group: group)
            let client = try await proxy.client()
            let connect = hexBytes("101b00044d5154540502003c051100000e100009636c696e742d313131")
            let subscribe: [UInt8] = [0x82, 0x09, 0x00, 0x01, 0x00, 0x00, 0x03, 0x61, 0x2F, 0x62, 0x00]
            // The CONNECT split over two writes, with a SUBSCRIBE glued to its end.
            // The second half goes only once the proxy has read the first one.
            try await client.send(Array(connect.prefix(7)))
            #expect(await eventually { proxy.engine.snapshot().prereadBytes == 7 })
            try await client.send(Array(connect.dropFirst(7)) + subscribe)
            let reply = await client.waitForBytes(11 + subscribe.count)
            #expect(reply == Array("hello world".utf8) + subscribe)
            #expect(node.connections.first?.bytes == connect + subscribe)
            // A large payload goes through both ways intact.
            let big = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            try await client.send(big)
            let echoed = await client.waitForBytes(11 + subscribe.count + big.count, timeout: 10)
            #expect(Array(echoed.suffix(big.count)) == big)
            let info = try #require(proxy.engine.snapshot().connections.first)
            #expect(info.clientID == "clint-111")
            #expect(info.protocolLevel == 5)
            #expect(info.keepAlive == 60)
            #expect(info.node == node.address)
            #expect(info.routeID == "1")
            #expect(info.bytesIn == connect.count + subscribe.count + big.count)
            #expect(info.bytesOut == 11 + subscribe.count + big.count)
            await client.close()
            #expect(await eventually { proxy.engine.snapshot().connections.isEmpty })
            let snap = proxy.engine.snapshot()
            #expect(snap.routes.first?.active == 0 && snap.routes.first?.total == 1)
            #expect(snap.events.map(\.kind).suffix(2) == [.connected, .disconnected])
            await proxy.stop()
            await node.stop()
        }
    }

    @Test func aBurstRightAfterTheConnectIsRelayedWhole() async throws {
        try await withEventLoopGroup { group in
            let node = try await RecordingUpstream.start(group: group)
            let proxy = try await ProxyHarness.start(
                resources: .with(routes: [("1", mqttRoute(type: "roundrobin", nodes: [node]))]), group: group)
            let client = try await proxy.client()
            // More than the preread buffer limit arrives before the broker connection is up.
            let burst = (0..<1_000_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
            try await client.send(ConnectBytes.make(clientID: "burst") + burst)
            let echoed = await client.waitForBytes(11 + burst.count, timeout: 20)
            #expect(echoed.count == 11 + burst.count)
            #expect(Array(echoed.suffix(burst.count)) == burst)
            await client.close()
            await proxy.stop()
            await node.stop()
        }
    }

    @Test func halfCloseIsPassedOn() async throws {
        try await withEventLoopGroup { group in
            let node = try await RecordingUpstream.start(group: group)
            let proxy = try await ProxyHarness.start(
                resources: .with(routes: [("1", mqttRoute(type: "roundrobin", nodes: [node]))]), group: group)
            let client = try await proxy.client(halfClosure: true)
            try await client.send(ConnectBytes.make(clientID: "hc") + [9, 9])
            #expect(await client.waitForBytes(13).count == 13)
            // Our EOF reaches the broker, which answers with its own EOF (the test upstream does that).
            try await client.shutdownOutput()
            #expect(await client.waitForClose())
            #expect(await eventually { node.openCount == 0 })
            #expect(await eventually { proxy.engine.snapshot().connections.isEmpty })
            await proxy.stop()
            await node.stop()
        }
    }

    @Test func idleRelaysAreClosedAfterTheUpstreamTimeout() async throws {
        try await withEventLoopGroup { group in
            let node = try await RecordingUpstream.start(group: group)
            let route = mqttRoute(type: "roundrobin", nodes: [node],
                                  upstreamExtra: ["timeout": ["connect": 1, "send": 0.3, "read": 0.4]])
            let proxy = try await ProxyHarness.start(resources: .with(routes: [("1", route)]), group: group)
            let client = try await proxy.client()
            // Keep-alive 0: the upstream's limit applies as it is (see the keep-alive tests for the rest).
            try await client.send(ConnectBytes.make(clientID: "sleepy", keepAlive: 0))
            #expect(await client.waitForBytes(11).count == 11)
            #expect(await client.waitForClose(timeout: 5))
            // The reason, not a stopwatch, says it was the idle limit (a loaded machine can starve this task).
            #expect(await eventually {
                proxy.engine.snapshot().events.contains { $0.message.hasPrefix("idle_timeout") }
            })
            await proxy.stop()
            await node.stop()
        }
    }

    @Test func brokerCloseClosesTheClient() async throws {
        try await withEventLoopGroup { group in
            let node = try await RecordingUpstream.start(group: group)
            let proxy = try await ProxyHarness.start(
                resources: .with(routes: [("1", mqttRoute(type: "roundrobin", nodes: [node]))]), group: group)
            let client = try await proxy.client()
            try await client.send(ConnectBytes.make(clientID: "victim"))
            #expect(await client.waitForBytes(11).count == 11)
            await node.stop()
            #expect(await client.waitForClose())
            #expect(await eventually {
                proxy.engine.snapshot().events.last?.message.hasPrefix("broker_closed") == true
            })
            await proxy.stop()
        }
    }

    @Test func plainTCPRoutesProxyWithoutPreread() async throws {
        try await withEventLoopGroup { group in
            let node = try await RecordingUpstream.start(group: group)
            let route: JSONValue = ["upstream": ["nodes": .object([node.address: 1])]]
            let proxy = try await ProxyHarness.start(resources: .with(routes: [("tcp", route)]), group: group)
            let client = try await proxy.client()
            try await client.send(Array("PING\n".utf8))
            #expect(await client.waitForBytes(5) == Array("PING\n".utf8))
            #expect(proxy.engine.snapshot().connections.first?.clientID == nil)
            await client.close()
            await proxy.stop()
            await node.stop()
        }
    }

    @Test func drainLetsRelaysFinishThenClosesThem() async throws {
        try await withEventLoopGroup { group in
            let node = try await RecordingUpstream.start(group: group)
            // Its own address, so no other test's listener can take the port once it is closed.
            let proxy = try await ProxyHarness.start(
                resources: .with(routes: [("1", mqttRoute(type: "roundrobin", nodes: [node]))]), group: group,
                host: "127.0.0.77")
            let client = try await proxy.client()
            try await client.send(ConnectBytes.make(clientID: "drain"))
            #expect(await client.waitForBytes(11).count == 11)
            await proxy.engine.stopAccepting()
            // New connections are refused; the open relay still works.
            await #expect(throws: (any Error).self) { _ = try await proxy.client() }
            try await client.send([7])
            #expect(await client.waitForBytes(12).last == 7)
            let start = Date()
            await proxy.engine.drain(timeout: 0.5)
            #expect(Date().timeIntervalSince(start) >= 0.45)
            #expect(await client.waitForClose())
            await proxy.stop()
            await node.stop()
        }
    }
}

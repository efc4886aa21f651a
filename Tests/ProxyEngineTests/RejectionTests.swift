import NIOPosix
import ProxyEngine
import ProxyModel
import ProxyTestSupport
import Testing
import ProxyControl

@Suite("Rejections: what the client sees and what is counted")
struct RejectionTests {
    /// Starts a one-node route, sends `bytes`, returns what the client got before the close and the route's
    /// rejection counts.
    func reject(_ bytes: [UInt8], routeLevel: Int = 4, routeName: String = "MQTT",
                settings: EngineSettings = EngineSettings(), closeInput: Bool = false,
                closeTimeout: Double = 5) async throws
        -> (reply: [UInt8], closed: Bool, rejected: [RejectReason: Int], upstreamSaw: Int)
    {
        try await withEventLoopGroup { group in
            let node = try await RecordingUpstream.start(group: group)
            let route = mqttRoute(level: routeLevel, name: routeName, type: "roundrobin", nodes: [node])
            let proxy = try await ProxyHarness.start(resources: .with(routes: [("1", route)]), settings: settings,
                                                     group: group)
            let client = try await proxy.client(halfClosure: true)
            try? await client.send(bytes)
            if closeInput { try? await client.shutdownOutput() }
            let closed = await client.waitForClose(timeout: closeTimeout)
            let snap = proxy.engine.snapshot()
            let result = (client.received.bytes, closed, snap.routes.first?.rejected ?? [:], node.connections.count)
            await client.close()
            await proxy.stop()
            await node.stop()
            return result
        }
    }

    @Test func v5ClientOnAV4RouteGetsConnack0x84() async throws {
        let r = try await reject(ConnectBytes.make(clientID: "a", level: 5), routeLevel: 4)
        #expect(r.reply == [0x20, 0x03, 0x00, 0x84, 0x00])
        #expect(r.closed)
        #expect(r.rejected == [.protocolMismatch: 1])
        #expect(r.upstreamSaw == 0)
    }

    @Test func v311ClientOnAV5RouteGetsReturnCode1() async throws {
        let r = try await reject(ConnectBytes.make(clientID: "a", level: 4), routeLevel: 5)
        #expect(r.reply == [0x20, 0x02, 0x00, 0x01])
        #expect(r.rejected == [.protocolMismatch: 1])
    }

    @Test func mqtt31NameMismatchIsAVersionRejection() async throws {
        let r = try await reject(ConnectBytes.make(clientID: "a", level: 3), routeLevel: 4)
        #expect(r.reply == [0x20, 0x02, 0x00, 0x01])
        let ok = try await reject(ConnectBytes.make(clientID: "a", level: 3), routeLevel: 3, routeName: "MQIsdp",
                                closeTimeout: 0.3)
        #expect(ok.reply == Array("hello world".utf8))
        #expect(ok.upstreamSaw == 1)
    }

    @Test(arguments: [
        [0x30, 0x02, 0x00, 0x00],
        [0x20, 0x02, 0x00, 0x00],
        [0x11, 0x00],
        [0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0x01],
        hexBytes("100f00044d5154540403003c0003666f6f"),
    ] as [[UInt8]])
    func malformedBytesCloseSilently(bytes: [UInt8]) async throws {
        let r = try await reject(bytes)
        #expect(r.reply.isEmpty)
        #expect(r.closed)
        #expect(r.rejected == [.malformed: 1])
        #expect(r.upstreamSaw == 0)
    }

    @Test func anIncompleteConnectTimesOut() async throws {
        var settings = EngineSettings()
        settings.prereadTimeout = 0.3
        let r = try await reject(Array(ConnectBytes.make(clientID: "slow").prefix(5)), settings: settings)
        #expect(r.closed)
        #expect(r.rejected == [.prereadTimeout: 1])
    }

    @Test func anOversizedConnectIsRefused() async throws {
        var settings = EngineSettings()
        settings.prereadMaxBytes = 64
        let r = try await reject(ConnectBytes.make(clientID: String(repeating: "x", count: 100)), settings: settings)
        #expect(r.closed)
        #expect(r.rejected == [.tooLarge: 1])
    }

    @Test func aClientThatLeavesEarlyIsCounted() async throws {
        let r = try await reject(Array(ConnectBytes.make(clientID: "gone").prefix(6)), closeInput: true)
        #expect(r.closed)
        #expect(r.rejected == [.clientClosed: 1])
    }

    @Test func noRouteClosesAndIsLogged() async throws {
        try await withEventLoopGroup { group in
            let node = try await RecordingUpstream.start(group: group)
            let route = mqttRoute(nodes: [node], extra: ["remote_addr": "10.0.0.0/8"])
            let proxy = try await ProxyHarness.start(resources: .with(routes: [("1", route)]), group: group)
            let client = try await proxy.client()
            #expect(await client.waitForClose())
            let snap = proxy.engine.snapshot()
            #expect(snap.totalRejected == 1)
            #expect(snap.events.last?.message.contains("not hit any route") == true)
            #expect(node.connections.isEmpty)
            await proxy.stop()
            await node.stop()
        }
    }

    @Test func oneBadClientDoesNotDisturbAnother() async throws {
        try await withEventLoopGroup { group in
            let node = try await RecordingUpstream.start(group: group)
            let proxy = try await ProxyHarness.start(
                resources: .with(routes: [("1", mqttRoute(type: "roundrobin", nodes: [node]))]), group: group)
            let good = try await proxy.client()
            try await good.send(ConnectBytes.make(clientID: "good"))
            #expect(await good.waitForBytes(11).count == 11)
            let bad = try await proxy.client()
            try? await bad.send([0x10, 0x80, 0x80, 0x80, 0x80, 0x01])
            #expect(await bad.waitForClose())
            try await good.send([1, 2, 3])
            #expect(await good.waitForBytes(14).suffix(3) == [1, 2, 3])
            #expect(!good.received.closed)
            await good.close()
            await proxy.stop()
            await node.stop()
        }
    }
}

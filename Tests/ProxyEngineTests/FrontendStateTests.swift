import LoadBalancing
import MQTTCodec
import NIOCore
import NIOEmbedded
import ProxyControl
@testable import ProxyEngine
import ProxyModel
import Testing

/// Every transition of the front handler, on an `EmbeddedChannel`: nothing but the handler and the test.
@Suite("Front handler states")
struct FrontendStateTests {
    let nodes = ["10.0.0.1:1883", "10.0.0.2:1883"]

    @Test("a whole CONNECT: connecting, then relaying with the CONNECT replayed untouched")
    func prereadComplete() throws {
        let rig = try FrontendRig(routes: [("1", plainRoute(nodes: nodes))])
        try rig.activate()
        let connect = connectBytes("sensor-1")
        try rig.send(connect)
        #expect(rig.connector.asked.count == 1)
        #expect(try rig.sentToBroker() == connect)
        #expect(!rig.frontHandlerPresent)
        // Nothing keeps the front handler once the relay is spliced (it holds the whole environment).
        #expect(!rig.frontHandlerAlive)
        let info = try #require(rig.snapshot.connections.first)
        #expect(info.clientID == "sensor-1")
        #expect(info.node == rig.connector.asked[0])
        #expect(rig.snapshot.pending == 0)
        // Relaying both ways now.
        try rig.connector.brokers[0].writeInbound(ByteBuffer(bytes: ConnackEncoder.accept(protocolLevel: 4)))
        #expect(try rig.sentToClient() == ConnackEncoder.accept(protocolLevel: 4))
    }

    @Test("a CONNECT in two reads: nothing happens until the second, then it goes out whole")
    func prereadSplit() throws {
        let rig = try FrontendRig(routes: [("1", plainRoute(nodes: nodes))])
        try rig.activate()
        let connect = connectBytes("split-client")
        let subscribe = Array(SubscribePacket(packetID: 1, requests: [.init(filter: "a/b", options: .init(qos: 0))])
            .encoded(protocolLevel: 4).readableBytesView)
        try rig.send(Array(connect.prefix(7)))
        #expect(rig.connector.asked.isEmpty)
        #expect(rig.snapshot.prereadBytes == 7)
        #expect(rig.frontHandlerPresent)
        try rig.send(Array(connect.dropFirst(7)) + subscribe)
        #expect(rig.connector.asked.count == 1)
        #expect(try rig.sentToBroker() == connect + subscribe)
    }

    @Test("a CONNECT over the preread limit is closed as too_large, without a broker")
    func tooLarge() throws {
        var settings = EngineSettings()
        settings.prereadMaxBytes = 32
        let rig = try FrontendRig(routes: [("1", plainRoute(nodes: nodes))], settings: settings)
        try rig.activate()
        try rig.send(connectBytes(String(repeating: "x", count: 40)))
        #expect(rig.isClosed)
        #expect(rig.connector.asked.isEmpty)
        #expect(rig.snapshot.rejectedByReason[.tooLarge] == 1)
        #expect(try rig.sentToClient().isEmpty)
    }

    @Test("no whole CONNECT within the preread timeout: closed as preread_timeout")
    func timeout() throws {
        var settings = EngineSettings()
        settings.prereadTimeout = 2
        let rig = try FrontendRig(routes: [("1", plainRoute(nodes: nodes))], settings: settings)
        try rig.activate()
        try rig.send(Array(connectBytes("slow").prefix(5)))
        rig.loop.advanceTime(by: .milliseconds(1_999))
        #expect(!rig.isClosed)
        rig.loop.advanceTime(by: .milliseconds(1))
        #expect(rig.isClosed)
        #expect(rig.snapshot.rejectedByReason[.prereadTimeout] == 1)
    }

    @Test("a protocol level the route does not take gets the CONNACK of the client's version, then the close",
          arguments: [(5, [0x20, 0x03, 0x00, 0x84, 0x00]), (3, [0x20, 0x02, 0x00, 0x01])] as [(UInt8, [UInt8])])
    func mismatch(level: UInt8, connack: [UInt8]) throws {
        let rig = try FrontendRig(routes: [("1", plainRoute(level: 4, nodes: nodes))])
        try rig.activate()
        try rig.send(connectBytes("v\(level)", level: level))
        #expect(try rig.sentToClient() == connack)
        #expect(rig.isClosed)
        #expect(rig.connector.asked.isEmpty)
        #expect(rig.snapshot.rejectedByReason[.protocolMismatch] == 1)
    }

    @Test("malformed first bytes are closed without a word")
    func malformed() throws {
        let rig = try FrontendRig(routes: [("1", plainRoute(nodes: nodes))])
        try rig.activate()
        try rig.send([0x30, 0x02, 0x00, 0x00])
        #expect(rig.isClosed)
        #expect(try rig.sentToClient().isEmpty)
        #expect(rig.snapshot.rejectedByReason[.malformed] == 1)
    }

    @Test("no route for the connection: closed as no_route before any byte is read")
    func noRoute() throws {
        let rig = try FrontendRig(routes: [("1", plainRoute(nodes: nodes, extra: ["server_port": 1]))])
        try rig.activate()
        #expect(rig.isClosed)
        #expect(rig.snapshot.rejectedByReason[.noRoute] == 1)
    }

    @Test("a route without the plugin connects at once and relays whatever comes")
    func plainTCP() throws {
        let rig = try FrontendRig(routes: [("1", plainRoute(type: "roundrobin", nodes: nodes, mqtt: false))])
        try rig.activate()
        #expect(rig.connector.asked.count == 1)
        try rig.send([1, 2, 3])
        #expect(try rig.sentToBroker() == [1, 2, 3])
        #expect(rig.snapshot.connections.first?.clientID == nil)
    }

    @Test("a refused node is retried on the next ring node; bytes read meanwhile follow the CONNECT")
    func retry() throws {
        let loop = EmbeddedEventLoop()
        let connector = ScriptedConnector(loop: loop)
        let rig = try FrontendRig(routes: [("1", plainRoute(nodes: nodes))], connector: connector)
        try rig.activate()
        let first = predictedNode("retry-me", nodes)
        connector.script[first] = [.refuse]
        try rig.send(connectBytes("retry-me"))
        #expect(connector.asked.count == 2)
        #expect(connector.asked[0] == first && connector.asked[1] != first)
        let info = try #require(rig.snapshot.connections.first)
        #expect(info.attempts == 2)
        #expect(info.node == connector.asked[1])
        #expect(rig.snapshot.nodes.first { $0.node == first }?.failing == true)
    }

    @Test("every node refused: upstream_unavailable after one attempt per node")
    func allFail() throws {
        let loop = EmbeddedEventLoop()
        let connector = ScriptedConnector(loop: loop)
        connector.script = [nodes[0]: [.refuse], nodes[1]: [.refuse]]
        let rig = try FrontendRig(routes: [("1", plainRoute(nodes: nodes))], connector: connector)
        try rig.activate()
        try rig.send(connectBytes("doomed"))
        #expect(connector.asked.count == 2)
        #expect(rig.isClosed)
        #expect(rig.snapshot.rejectedByReason[.upstreamUnavailable] == 1)
    }

    @Test("the client leaving while a broker is being reached: client_closed, and the late broker is closed")
    func clientLeavesWhileConnecting() throws {
        let loop = EmbeddedEventLoop()
        let connector = ScriptedConnector(loop: loop)
        connector.script = [nodes[0]: [.hang], nodes[1]: [.hang]]
        let rig = try FrontendRig(routes: [("1", plainRoute(nodes: nodes))], connector: connector)
        try rig.activate()
        try rig.send(connectBytes("impatient"))
        try rig.client.close().wait()
        #expect(rig.snapshot.rejectedByReason[.clientClosed] == 1)
        let late = connector.makeBroker()
        connector.pending[0].promise.succeed(late)
        #expect(!late.isActive)
        #expect(rig.snapshot.connections.isEmpty)
    }
}

/// Where APISIX's ring puts `key` among `nodes` (weight 1 each).
func predictedNode(_ key: String, _ nodes: [String]) -> String {
    let ring = ConsistentHashRing(servers: nodes.map { ($0, 1) })
    return nodes[ring.lookup(key)!.node]
}

@Suite("least_conn counts a connection when it picks the node")
struct LeastConnPickTimeTests {
    @Test("connections opened at once while one node is slow to answer spread evenly, not onto the slow node")
    func slowNodeDoesNotSwallowConcurrentPicks() throws {
        let nodes = ["10.0.0.1:1883", "10.0.0.2:1883"]
        let table = try FrontendRig.table([("1", plainRoute(type: "least_conn", nodes: nodes))])
        let loop = EmbeddedEventLoop()
        let connector = ScriptedConnector(loop: loop)
        // The first node never answers while the test runs; the second answers at once.
        connector.script[nodes[0]] = Array(repeating: .hang, count: 20)
        let registry = ConnectionRegistry()
        var rigs: [FrontendRig] = []
        for i in 0..<20 {
            let rig = try FrontendRig(table: table, registry: registry, connector: connector)
            try rig.activate(from: "10.1.0.\(i + 1)")
            try rig.send(connectBytes("client-\(i)"))
            rigs.append(rig)
        }
        let slow = connector.asked.filter { $0 == nodes[0] }.count
        let fast = connector.asked.filter { $0 == nodes[1] }.count
        #expect(slow + fast == 20)
        // Counting only established relays would send 19 of the 20 to the slow node (it looks idle).
        #expect(slow == 10 && fast == 10, "slow \(slow), fast \(fast)")
        let balancer = try #require(table.routes.first?.balancer)
        #expect(balancer.activeConnections == [10, 10])
        // A pending attempt that fails gives its count back.
        for (_, promise) in connector.pending { promise.fail(ChannelError.connectTimeout(.seconds(1))) }
        #expect(balancer.activeConnections[0] == 0)
        _ = rigs
    }
}

import MQTTCodec
import NIOCore
import NIOEmbedded
import NIOPosix
import ProxyControl
@testable import ProxyEngine
import ProxyModel
import ProxyProtocol
import Testing

/// The edge on an `EmbeddedChannel`: PROXY headers read before the CONNECT, the limits answered in MQTT.
@Suite("Front handler: PROXY headers and limits")
struct EdgeStateTests {
    let nodes = ["10.0.0.1:1883", "10.0.0.2:1883"]
    let readsHeader = ListenerPolicy(acceptsProxyHeader: true)

    @Test("a v1 header from a trusted peer: its address is the client's for matching, hashing and the registry")
    func acceptsV1() throws {
        let route = plainRoute(nodes: nodes, extra: ["remote_addr": "10.9.8.0/24"])
        let rig = try FrontendRig(routes: [("1", route)], listener: readsHeader)
        try rig.activate(from: "127.0.0.1")
        let connect = connectBytes("behind-lb")
        try rig.send(Array("PROXY TCP4 10.9.8.7 127.0.0.1 5555 9100\r\n".utf8) + connect)
        #expect(try rig.sentToBroker() == connect)
        let info = try #require(rig.snapshot.connections.first)
        #expect(info.remoteAddress == "10.9.8.7")
        #expect(info.remotePort == 5555)
        #expect(info.via == "127.0.0.1:40000")
    }

    @Test("a v2 header split over three reads, the CONNECT in the last")
    func acceptsSplitV2() throws {
        let rig = try FrontendRig(routes: [("1", plainRoute(type: "roundrobin", nodes: nodes))], listener: readsHeader)
        try rig.activate(from: "127.0.0.1")
        let header = ProxyHeader(version: 2, source: try SocketAddress(ipAddress: "2001:db8::7", port: 6000),
                                 destination: try SocketAddress(ipAddress: "2001:db8::1", port: 1883)).encoded()
        try rig.send(Array(header.prefix(5)))
        try rig.send(Array(header[5..<20]))
        #expect(rig.connector.asked.isEmpty)
        try rig.send(Array(header.dropFirst(20)) + connectBytes("v6-client"))
        let info = try #require(rig.snapshot.connections.first)
        #expect(info.remoteAddress == "2001:db8::7")
        #expect(info.localPort == 1883)
    }

    @Test("a peer outside proxy_protocol_trusted is closed unread")
    func untrusted() throws {
        let rig = try FrontendRig(routes: [("1", plainRoute(nodes: nodes))], listener: readsHeader)
        try rig.activate(from: "10.1.0.7")
        #expect(rig.isClosed)
        #expect(rig.snapshot.rejectedByReason[.proxyProtocolUntrusted] == 1)
        #expect(rig.snapshot.events.last?.message.contains("proxy_protocol_trusted") == true)
    }

    @Test("a malformed header is closed, and nothing reaches a broker")
    func malformed() throws {
        let rig = try FrontendRig(routes: [("1", plainRoute(nodes: nodes))], listener: readsHeader)
        try rig.activate(from: "127.0.0.1")
        try rig.send(connectBytes("no-header"))
        #expect(rig.isClosed)
        #expect(rig.connector.asked.isEmpty)
        #expect(rig.snapshot.rejectedByReason[.proxyProtocolMalformed] == 1)
    }

    @Test("a LOCAL header keeps the socket's own addresses")
    func local() throws {
        let rig = try FrontendRig(routes: [("1", plainRoute(nodes: nodes))], listener: readsHeader)
        try rig.activate(from: "127.0.0.1")
        try rig.send(ProxyHeader(version: 2, command: .local, source: nil, destination: nil).encoded() + connectBytes("hc"))
        let info = try #require(rig.snapshot.connections.first)
        #expect(info.remoteAddress == "127.0.0.1")
        #expect(info.via == nil)
    }

    @Test("a header that never ends is cut at the preread limit")
    func overLong() throws {
        var settings = EngineSettings()
        settings.prereadMaxBytes = 64
        let rig = try FrontendRig(routes: [("1", plainRoute(nodes: nodes))], settings: settings, listener: readsHeader)
        try rig.activate(from: "127.0.0.1")
        try rig.send(ProxyHeader.v2Signature + [0x21, 0x11, 0x01, 0x00])
        #expect(rig.isClosed)
        #expect(rig.snapshot.rejectedByReason[.proxyProtocolMalformed] == 1)
    }

    // MARK: - Sending

    @Test("upstream proxy_protocol v2: each attempt's broker connection gets the client's addresses")
    func sendsV2() throws {
        let route = plainRoute(nodes: nodes, extra: [:])
        var body = route
        body["upstream"]?["proxy_protocol"] = "v2"
        let rig = try FrontendRig(routes: [("1", body)])
        try rig.activate(from: "10.1.0.7")
        try rig.send(connectBytes("pp-client"))
        let preface = try #require(rig.connector.prefaces.first ?? nil)
        #expect(Array(preface.readableBytesView) == ProxyHeader.v2Signature
            + [0x21, 0x11, 0x00, 0x0C, 10, 1, 0, 7, 127, 0, 0, 1, 0x9C, 0x40, 0x23, 0x8C])
    }

    @Test("a listener with proxy_protocol_to_upstream sends v1; none by default")
    func listenerSendsV1() throws {
        let rig = try FrontendRig(routes: [("1", plainRoute(nodes: nodes))], listener: ListenerPolicy(sendsProxyHeader: true))
        try rig.activate(from: "10.1.0.7")
        try rig.send(connectBytes("v1"))
        let preface = try #require(rig.connector.prefaces.first ?? nil)
        #expect(String(buffer: preface) == "PROXY TCP4 10.1.0.7 127.0.0.1 40000 9100\r\n")
        let plain = try FrontendRig(routes: [("1", plainRoute(nodes: nodes))])
        try plain.activate()
        try plain.send(connectBytes("none"))
        #expect(plain.connector.prefaces == [nil])
    }

    // MARK: - Limits

    @Test("over max_connections: 3.1.1 gets 0x03, MQTT 5 gets 0x97, and no broker is tried")
    func overLimit() throws {
        for (level, answer) in [(UInt8(4), [0x20, 0x02, 0x00, 0x03] as [UInt8]), (5, [0x20, 0x03, 0x00, 0x97, 0x00])] {
            let rig = try FrontendRig(routes: [("1", plainRoute(level: Int(level), nodes: nodes))],
                                      admission: .overLimit("101 client connections open, over the limit of 100"))
            try rig.activate()
            try rig.send(connectBytes("one-too-many", level: level))
            #expect(try rig.sentToClient() == answer)
            #expect(rig.isClosed)
            #expect(rig.connector.asked.isEmpty)
            #expect(rig.snapshot.rejectedByReason[.overLimit] == 1)
        }
    }

    @Test("connect_rate: the bucket's burst passes, the next CONNECT gets 0x9F (MQTT 5)")
    func connectRate() throws {
        var route = plainRoute(level: 5, type: "roundrobin", nodes: nodes)
        route["plugins"]?["mqtt-proxy"]?["connect_rate"] = ["rate": 0.001, "burst": 2]
        let table = try FrontendRig.table([("1", route)])
        var answers: [[UInt8]] = []
        for i in 0..<3 {
            let rig = try FrontendRig(table: table)
            try rig.activate()
            try rig.send(connectBytes("storm-\(i)", level: 5))
            answers.append(try rig.sentToClient())
        }
        #expect(answers[0].isEmpty && answers[1].isEmpty)
        #expect(answers[2] == [0x20, 0x03, 0x00, 0x9F, 0x00])
    }

    @Test("limit-conn by remote_addr: conn + burst per address, released when a connection closes")
    func limitConn() throws {
        var route = plainRoute(type: "roundrobin", nodes: nodes)
        route["plugins"]?["limit-conn"] = ["conn": 1, "burst": 0, "default_conn_delay": 0.1, "key": "remote_addr"]
        let table = try FrontendRig.table([("1", route)])
        let connector = ScriptedConnector(loop: EmbeddedEventLoop())
        func open(_ from: String) throws -> (FrontendRig, [UInt8]) {
            let rig = try FrontendRig(table: table, connector: connector)
            try rig.activate(from: from)
            try rig.send(connectBytes("c-\(from)"))
            return (rig, try rig.sentToClient())
        }
        let (first, firstAnswer) = try open("10.0.0.7")
        #expect(firstAnswer.isEmpty)
        let (_, second) = try open("10.0.0.7")
        #expect(second == [0x20, 0x02, 0x00, 0x03])
        let (_, other) = try open("10.0.0.8")
        #expect(other.isEmpty)
        try first.client.close().wait()
        connector.loop.run()
        let (_, again) = try open("10.0.0.7")
        #expect(again.isEmpty)
    }

    @Test("limit-conn burst: an excess connection waits default_conn_delay before its broker is tried")
    func limitConnDelay() throws {
        var route = plainRoute(type: "roundrobin", nodes: nodes)
        route["plugins"]?["limit-conn"] = ["conn": 1, "burst": 1, "default_conn_delay": 0.5, "key": "mqtt_client_id"]
        let table = try FrontendRig.table([("1", route)])
        let connector = ScriptedConnector(loop: EmbeddedEventLoop())
        let first = try FrontendRig(table: table, connector: connector)
        try first.activate()
        try first.send(connectBytes("same-id"))
        let second = try FrontendRig(table: table, connector: connector)
        try second.activate()
        try second.send(connectBytes("same-id"))
        #expect(connector.asked.count == 1)
        connector.loop.advanceTime(by: .milliseconds(499))
        #expect(connector.asked.count == 1)
        connector.loop.advanceTime(by: .milliseconds(2))
        #expect(connector.asked.count == 2)
    }

    @Test("out of descriptors connecting: answered like over_limit, and the node is not blamed")
    func descriptorsExhausted() throws {
        let rig = try FrontendRig(routes: [("1", plainRoute(nodes: nodes))])
        rig.connector.failure = IOError(errnoCode: EMFILE, reason: "socket")
        rig.connector.script = [nodes[0]: [.refuse], nodes[1]: [.refuse]]
        try rig.activate()
        try rig.send(connectBytes("starved"))
        #expect(try rig.sentToClient() == [0x20, 0x02, 0x00, 0x03])
        #expect(rig.connector.asked.count == 1, "no other node is tried")
        #expect(rig.snapshot.rejectedByReason[.resourceExhausted] == 1)
        #expect(rig.snapshot.nodes.allSatisfy { $0.connectFailures == 0 && !$0.failing })
    }

    // MARK: - Keys and idle limits

    @Test("mqtt_username falls back to the client id; tls_client_cn and sni come from the handshake")
    func moreKeys() throws {
        let addresses = ConnectionAddresses(remote: try SocketAddress(ipAddress: "10.0.0.9", port: 1),
                                            local: try SocketAddress(ipAddress: "10.0.0.1", port: 2))
        let tls = TLSDetails(version: "TLSv1.3", sni: "mqtt.example", sslID: "1", clientCN: "device-7")
        let full = ConnectionVariables(addresses: addresses, clientID: "id-1", username: "alice", tls: tls)
        #expect(full.value("mqtt_username") == "alice")
        #expect(full.value("tls_client_cn") == "device-7")
        #expect(full.value("sni") == "mqtt.example")
        let anonymous = ConnectionVariables(addresses: addresses, clientID: "id-1", username: nil, tls: nil)
        #expect(anonymous.value("mqtt_username") == "id-1")
        var upstream = Upstream(type: .chash, nodes: [])
        upstream.key = "mqtt_username"
        let nobody = ConnectionVariables(addresses: addresses, clientID: nil, username: nil, tls: nil)
        #expect(nobody.hashKey(for: upstream) == ("10.0.0.9", true))
        upstream.key = "tls_client_cn"
        #expect(full.hashKey(for: upstream) == ("device-7", false))
    }

    @Test("the idle limit is the larger of the upstream's and 1.5 × keep-alive")
    func idleLimits() {
        #expect(FrontendHandler.idleLimit(upstream: 1, keepAlive: 2) == 3)
        #expect(FrontendHandler.idleLimit(upstream: 600, keepAlive: 60) == 600)
        #expect(FrontendHandler.idleLimit(upstream: 1, keepAlive: 0) == 1)
        #expect(FrontendHandler.idleLimit(upstream: 5, keepAlive: nil) == 5)
    }
}

/// The PROXY header writer on broker connections, on an `EmbeddedChannel`: the header goes first whichever comes
/// first, the replayed CONNECT or the channel becoming active (TLS's ClientHello is written then).
@Suite("PROXY header writer")
struct ProxyHeaderWriterTests {
    func outbound(_ channel: EmbeddedChannel) throws -> [[UInt8]] {
        var out: [[UInt8]] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { out.append(Array(buffer.readableBytesView)) }
        return out
    }

    @Test func aWriteBeforeActivationIsPrecededByTheHeader() throws {
        // (A socket channel's connect future completes before channelActive runs: the relay's first write can come
        // first. Here the writer joins an already active channel, so the write is what it sees first.)
        let channel = EmbeddedChannel()
        try channel.connect(to: SocketAddress(ipAddress: "10.0.0.1", port: 1883)).wait()
        try channel.pipeline.syncOperations.addHandler(ProxyHeaderWriter(header: ByteBuffer(string: "PROXY UNKNOWN\r\n")))
        channel.writeAndFlush(ByteBuffer(bytes: [0x10, 0x00]), promise: nil)
        let first = try outbound(channel)
        #expect(first == [Array("PROXY UNKNOWN\r\n".utf8), [0x10, 0x00]])
        channel.writeAndFlush(ByteBuffer(bytes: [0xC0, 0x00]), promise: nil)
        let second = try outbound(channel)
        #expect(second == [[0xC0, 0x00]], "the header is sent once")
        #expect((try? channel.pipeline.syncOperations.handler(type: ProxyHeaderWriter.self)) == nil)
    }

    @Test func activationFirstSendsTheHeaderAtOnce() throws {
        let channel = EmbeddedChannel(handler: ProxyHeaderWriter(header: ByteBuffer(string: "PROXY UNKNOWN\r\n")))
        try channel.connect(to: SocketAddress(ipAddress: "10.0.0.1", port: 1883)).wait()
        #expect(try outbound(channel) == [Array("PROXY UNKNOWN\r\n".utf8)])
        channel.writeAndFlush(ByteBuffer(bytes: [0x10, 0x00]), promise: nil)
        #expect(try outbound(channel) == [[0x10, 0x00]])
    }

    @Test func aProbeSendsLocalForV2() throws {
        let channel = EmbeddedChannel(handler: ProxyHeaderWriter(probe: .v2))
        try channel.connect(to: SocketAddress(ipAddress: "10.0.0.1", port: 1883)).wait()
        #expect(try outbound(channel) == [ProxyHeader.v2Signature + [0x20, 0x00, 0x00, 0x00]])
    }
}

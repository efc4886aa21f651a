import Foundation
import MQTTCodec
import NIOPosix
import ProxyModel
import ProxyTestSupport
import Testing

/// `mqtt-proxy serve` at its edge, with real mosquitto and HAProxy: descriptor limits, connection limits answered
/// in MQTT, limit-conn by client address, and PROXY protocol from a load balancer in front.
@Suite("The edge, end to end", .serialized, .requires("mosquitto"))
struct EdgeEndToEndTests {
    struct Setup {
        let dir: String
        let broker: MosquittoBroker
        func stop() {
            broker.stop()
            try? FileManager.default.removeItem(atPath: dir)
        }
    }

    /// A temp folder with a config (`mqttProxy` settings, `listeners`) and `routes` (YAML items, `NODE` standing
    /// for the mosquitto broker's address), and that broker.
    func setUp(mqttProxy: [String], listeners: [String] = ["\"127.0.0.1:0\""], routes: String) async throws -> Setup {
        let tools = try ExternalTools.paths(["mosquitto"])
        let broker = try await MosquittoBroker.start(binary: tools["mosquitto"]!)
        let dir = NSTemporaryDirectory() + "mqtt-proxy-edge-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try ServeProcess.config(mqttProxy: ["log_level: notice"] + mqttProxy, listeners: listeners)
            .write(toFile: dir + "/config.yaml", atomically: true, encoding: .utf8)
        try ("stream_routes:\n" + routes.replacingOccurrences(of: "NODE", with: broker.address) + "#END\n")
            .write(toFile: dir + "/apisix.yaml", atomically: true, encoding: .utf8)
        return Setup(dir: dir, broker: broker)
    }

    static let v4Route = """
          - id: v4
            plugins: {mqtt-proxy: {protocol_level: 4}}
            upstream: {nodes: {"NODE": 1}}

        """

    /// Connects from `source`, sends a CONNECT at `level`, and returns the client and the first bytes it got back.
    func mqttClient(port: Int, id: String, level: UInt8 = 4, from source: String? = nil) async throws
        -> (TestClient, [UInt8])
    {
        let client = try await TestClient.connect(port: port, from: source, group: MultiThreadedEventLoopGroup.singleton)
        try? await client.send(Array(ConnectPacket(protocolLevel: level, clientID: id).encoded.readableBytesView))
        return (client, await client.waitForBytes(level == 5 ? 5 : 4))
    }

    /// `GET path` as JSON.
    func status(_ serve: ServeProcess, _ path: String) async throws -> JSONValue {
        let (code, body) = try await serve.admin("GET", path)
        #expect(code == 200, "\(path): \(body)")
        return try JSONParser.parse(Array(body.utf8))
    }

    func rejected(_ serve: ServeProcess, _ reason: String) async throws -> Int {
        try await status(serve, "/v1/routes/stats")["rejected_by_reason"]?[reason]?.intValue ?? 0
    }

    @Test func startedUnderUlimit256ItRaisesItsLimitAndHoldsAThousandClients() async throws {
        let setup = try await setUp(mqttProxy: [], routes: Self.v4Route)
        defer { setup.stop() }
        let serve = try await ServeProcess(binary: try #require(proxyBinary()), arguments: ["--config", setup.dir + "/config.yaml"],
                                           ulimit: "-Sn 256")
        defer { serve.stop() }
        let line = try #require(ServeProcess.line(after: "file descriptors: soft limit ", in: serve.text))
        #expect(line.hasPrefix("256 → "), "\(line)")
        let port = try #require(serve.streamPorts.first)
        var clients: [TestClient] = []
        var accepted = 0
        for i in 0..<1000 {
            let (client, answer) = try await mqttClient(port: port, id: "held-\(i)")
            if answer == [0x20, 0x02, 0x00, 0x00] { accepted += 1 }
            clients.append(client)
        }
        #expect(accepted == 1000)
        let stats = try await status(serve, "/v1/routes/stats")
        #expect(stats["rejected"] == 0)
        #expect(stats["routes"]?[0]?["active"] == 1000)
        for client in clients { await client.close() }
    }

    @Test func overMaxConnectionsTheNextClientsHearServerUnavailableOrQuotaExceededAndNoNodeIsBlamed() async throws {
        let routes = """
              - id: v5
                remote_addr: 127.0.0.2
                plugins: {mqtt-proxy: {protocol_level: 5}}
                upstream: {nodes: {"NODE": 1}}

            """ + Self.v4Route
        let setup = try await setUp(mqttProxy: ["max_connections: 100"], routes: routes)
        defer { setup.stop() }
        let serve = try await ServeProcess(binary: try #require(proxyBinary()), arguments: ["--config", setup.dir + "/config.yaml"])
        defer { serve.stop() }
        #expect(serve.text.contains("max_connections 100 (max_connections)"))
        let port = try #require(serve.streamPorts.first)
        var held: [TestClient] = []
        for i in 0..<100 {
            let (client, answer) = try await mqttClient(port: port, id: "held-\(i)")
            #expect(answer == [0x20, 0x02, 0x00, 0x00])
            held.append(client)
        }
        let (v3, v3Answer) = try await mqttClient(port: port, id: "one-too-many")
        #expect(v3Answer == [0x20, 0x02, 0x00, 0x03])
        #expect(await v3.waitForClose())
        let (v5, v5Answer) = try await mqttClient(port: port, id: "one-too-many-5", level: 5, from: "127.0.0.2")
        #expect(v5Answer == [0x20, 0x03, 0x00, 0x97, 0x00])
        #expect(await v5.waitForClose())
        #expect(try await rejected(serve, "over_limit") == 2)
        let stats = try await status(serve, "/v1/routes/stats")
        #expect(stats["nodes"]?[0]?["failing"] == false)
        #expect(stats["nodes"]?[0]?["connect_failures"] == 0)
        // One leaves, one more gets in.
        await held.removeFirst().close()
        var admitted = false
        for attempt in 0..<50 where !admitted {
            let (client, answer) = try await mqttClient(port: port, id: "after-\(attempt)")
            admitted = answer == [0x20, 0x02, 0x00, 0x00]
            held.append(client)
            if !admitted { try await Task.sleep(nanoseconds: 20_000_000) }
        }
        #expect(admitted)
        for client in held { await client.close() }
    }

    @Test func limitConnByRemoteAddrCountsEachClientAddressApart() async throws {
        let routes = """
              - id: limited
                plugins:
                  mqtt-proxy: {protocol_level: 4}
                  limit-conn: {conn: 2, burst: 0, default_conn_delay: 1, key: remote_addr}
                upstream: {nodes: {"NODE": 1}}

            """
        let setup = try await setUp(mqttProxy: [], routes: routes)
        defer { setup.stop() }
        let serve = try await ServeProcess(binary: try #require(proxyBinary()), arguments: ["--config", setup.dir + "/config.yaml"])
        defer { serve.stop() }
        let port = try #require(serve.streamPorts.first)
        var held: [TestClient] = []
        for source in ["127.0.0.2", "127.0.0.3"] {
            for i in 0..<2 {
                let (client, answer) = try await mqttClient(port: port, id: "\(source)-\(i)", from: source)
                #expect(answer == [0x20, 0x02, 0x00, 0x00], "\(source) #\(i)")
                held.append(client)
            }
        }
        let (third, answer) = try await mqttClient(port: port, id: "third", from: "127.0.0.2")
        #expect(answer == [0x20, 0x02, 0x00, 0x03])
        #expect(await third.waitForClose())
        let (other, otherAnswer) = try await mqttClient(port: port, id: "other", from: "127.0.0.4")
        #expect(otherAnswer == [0x20, 0x02, 0x00, 0x00])
        held.append(other)
        #expect(try await rejected(serve, "limit_conn") == 1)
        for client in held { await client.close() }
    }

    @Test(.requires("haproxy"))
    func behindHAProxyWithSendProxyV2TheClientsOwnAddressIsUsedAndUntrustedPeersAreRefused() async throws {
        let routes = """
              - id: from-5
                remote_addr: 127.0.0.5
                plugins: {mqtt-proxy: {protocol_level: 4}}
                upstream: {nodes: {"NODE": 1}}

            """
        let setup = try await setUp(mqttProxy: ["proxy_protocol_trusted: [127.0.0.1/32]"],
                                    listeners: ["{addr: \"127.0.0.1:0\", proxy_protocol: true}"], routes: routes)
        defer { setup.stop() }
        let serve = try await ServeProcess(binary: try #require(proxyBinary()), arguments: ["--config", setup.dir + "/config.yaml"])
        defer { serve.stop() }
        let port = try #require(serve.streamPorts.first)
        let haproxy = try await HAProxyProcess.start(binary: try ExternalTools.paths(["haproxy"])["haproxy"]!,
                                                     host: "127.0.0.90", server: "127.0.0.1:\(port)",
                                                     serverOptions: "send-proxy-v2")
        defer { haproxy.stop() }
        let client = try await TestClient.connect(host: "127.0.0.90", port: haproxy.port, from: "127.0.0.5",
                                                  group: MultiThreadedEventLoopGroup.singleton)
        try await client.send(Array(ConnectPacket(protocolLevel: 4, clientID: "behind-haproxy").encoded.readableBytesView))
        #expect(await client.waitForBytes(4) == [0x20, 0x02, 0x00, 0x00])
        let connections = try await status(serve, "/v1/connections")
        let info = connections["connections"]?[0]
        #expect(info?["remote_addr"] == "127.0.0.5")
        #expect(info?["route_id"] == "from-5")
        #expect(info?["via"]?.stringValue?.hasPrefix("127.0.0.1:") == true)

        // A peer that is not trusted may not claim an address.
        let forger = try await TestClient.connect(port: port, from: "127.0.0.7", group: MultiThreadedEventLoopGroup.singleton)
        // (The proxy may close it before the bytes are even written.)
        try? await forger.send(Array("PROXY TCP4 127.0.0.5 127.0.0.1 1000 \(port)\r\n".utf8)
            + Array(ConnectPacket(protocolLevel: 4, clientID: "forged").encoded.readableBytesView))
        #expect(await forger.waitForClose())
        #expect(forger.received.bytes.isEmpty)
        #expect(try await rejected(serve, "proxy_protocol_untrusted") == 1)
        await client.close()
    }

    /// Two limits one apart: descriptors run out at the accept on one and at the broker connection on the other
    /// (a relay takes two), and clients hear the same either way.
    @Test(arguments: ["-n 200", "-n 201"])
    func outOfDescriptorsClientsHearServerUnavailableAndTheBrokerIsNotBlamed(limit: String) async throws {
        let setup = try await setUp(mqttProxy: ["max_connections: 1000"], routes: Self.v4Route)
        defer { setup.stop() }
        let serve = try await ServeProcess(binary: try #require(proxyBinary()), arguments: ["--config", setup.dir + "/config.yaml"],
                                           ulimit: limit)
        defer { serve.stop() }
        #expect(serve.text.contains("more than the descriptor limit allows"))
        let port = try #require(serve.streamPorts.first)
        var held: [TestClient] = []
        var refused = false
        for i in 0..<200 where !refused {
            let (client, answer) = try await mqttClient(port: port, id: "fd-\(i)")
            if answer == [0x20, 0x02, 0x00, 0x03] { refused = true } else { held.append(client) }
        }
        #expect(refused, "a client was refused once descriptors ran out (\(held.count) held)")
        // More clients while descriptors are short: each is answered, none left waiting in the backlog.
        for i in 0..<3 {
            let (client, answer) = try await mqttClient(port: port, id: "late-\(i)")
            #expect(answer == [0x20, 0x02, 0x00, 0x03], "\(limit): late client \(i) got \(answer)")
            await client.close()
        }
        // Descriptors freed (the admin API needs one too), clients get through again.
        for client in held.prefix(10) { await client.close() }
        #expect(try await rejected(serve, "resource_exhausted") >= 4)
        let stats = try await status(serve, "/v1/routes/stats")
        #expect(stats["nodes"]?[0]?["failing"] == false)
        #expect(stats["nodes"]?[0]?["connect_failures"] == 0)
        var admitted = false
        for attempt in 0..<50 where !admitted {
            let (client, answer) = try await mqttClient(port: port, id: "again-\(attempt)")
            admitted = answer == [0x20, 0x02, 0x00, 0x00]
            await client.close()
            if !admitted { try await Task.sleep(nanoseconds: 50_000_000) }
        }
        #expect(admitted)
        for client in held.dropFirst(10) { await client.close() }
    }
}

extension JSONValue {
    /// The element at `index` of an array; nil for anything else.
    fileprivate subscript(index: Int) -> JSONValue? {
        guard case .array(let items) = self, index < items.count else { return nil }
        return items[index]
    }
}

import Foundation
import MQTTCodec
import NIOPosix
import ProxyTestSupport
import Testing

/// `mqtt-proxy serve` stopping with clients connected: it ends every relay at once and exits.
@Suite("Shutdown with clients connected", .serialized, .requires("mosquitto"))
struct ShutdownEndToEndTests {
    @Test func sigtermWith200HeldClientsExitsWithinTwoSecondsAndMQTT5ClientsHearServerShuttingDown() async throws {
        let tools = try ExternalTools.paths(["mosquitto"])
        let binary = try #require(proxyBinary(), "build the mqtt-proxy product first")
        let broker = try await MosquittoBroker.start(binary: tools["mosquitto"]!)
        defer { broker.stop() }
        let dir = NSTemporaryDirectory() + "mqtt-proxy-shutdown-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try ServeProcess.config(mqttProxy: ["log_level: notice", "shutdown_server_reference: \"mqtt-2.example.com:1883\""])
            .write(toFile: dir + "/config.yaml", atomically: true, encoding: .utf8)
        // MQTT 5 and MQTT 3.1.1 clients share the broker through two routes on the same port.
        try """
            stream_routes:
              - id: v5
                remote_addr: 127.0.0.2
                plugins: {mqtt-proxy: {protocol_level: 5}}
                upstream: {nodes: {"\(broker.address)": 1}}
              - id: v4
                plugins: {mqtt-proxy: {protocol_level: 4}}
                upstream: {nodes: {"\(broker.address)": 1}}
            #END

            """.write(toFile: dir + "/apisix.yaml", atomically: true, encoding: .utf8)
        let serve = try await ServeProcess(binary: binary, arguments: ["--config", dir + "/config.yaml"])
        defer { serve.stop() }
        let port = try #require(serve.streamPorts.first)

        let group = MultiThreadedEventLoopGroup.singleton
        var clients: [(TestClient, UInt8)] = []
        for i in 0..<200 {
            let level: UInt8 = i % 2 == 0 ? 5 : 4
            let client = try await TestClient.connect(port: port, from: level == 5 ? "127.0.0.2" : "127.0.0.1",
                                                      group: group)
            try await client.send(Array(ConnectPacket(protocolLevel: level, clientID: "held-\(i)").encoded
                .readableBytesView))
            clients.append((client, level))
        }
        for (client, level) in clients {
            let connack = await client.waitForBytes(level == 5 ? 5 : 4)
            #expect(connack.first == 0x20, "no CONNACK for a level \(level) client")
        }

        let stopped = Date()
        kill(serve.pid, SIGTERM)
        let status = await serve.child.wait(timeout: 10)
        let took = Date().timeIntervalSince(stopped)
        print("shutdown: 200 held clients, exited after \(String(format: "%.2f", took)) s")
        #expect(status == 0)
        // It ends the relays at once instead of waiting for the clients (usually well under 2 s; the bound leaves
        // room for a loaded machine).
        #expect(took < 5, "took \(took) s")
        let farewell = DisconnectEncoder.v5(reasonCode: .serverShuttingDown,
                                            properties: [MQTTProperty(.serverReference, .string("mqtt-2.example.com:1883"))])
        for (client, level) in clients {
            #expect(await client.waitForClose(timeout: 2))
            let bytes = client.received.bytes
            if level == 5 {
                #expect(Array(bytes.suffix(farewell.count)) == farewell, "MQTT 5 client got \(bytes)")
            } else {
                #expect(bytes == ConnackEncoder.accept(protocolLevel: 4), "MQTT 3.1.1 client got \(bytes)")
            }
            await client.close()
        }
        #expect(serve.text.contains("engine stopped"))
    }
}

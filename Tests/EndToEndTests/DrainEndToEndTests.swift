import Foundation
import LoadBalancing
import MQTTCodec
import NIOCore
import NIOPosix
import ProxyControl
import ProxyEngine
import ProxyModel
import ProxyTestSupport
import Testing

/// Draining a node with real paho-mqtt clients and mosquitto brokers.
@Suite("Drain with paho-mqtt and mosquitto", .serialized, .requires("mosquitto", "mosquitto_sub", "python3"), .requiresPaho)
struct DrainEndToEndTests {
    static func route(_ brokers: [MosquittoBroker], level: Int = 5) -> JSONValue {
        [
            "plugins": ["mqtt-proxy": ["protocol_name": "MQTT", "protocol_level": .int(level)]],
            "upstream": [
                "type": "chash", "key": "mqtt_client_id",
                "nodes": .array(brokers.map { ["host": .string($0.host), "port": .int($0.port), "weight": 1] }),
            ],
        ]
    }

    /// `count` client ids the ring puts on `target` (or, with `not`, elsewhere).
    static func ids(_ count: Int, on target: MosquittoBroker, among brokers: [MosquittoBroker], prefix: String,
                    not: Bool = false) -> [String]
    {
        let ring = ConsistentHashRing(servers: brokers.map { ($0.address, 1) })
        return Array((0..<5000).map { "\(prefix)-\($0)" }.filter {
            (brokers[ring.lookup($0)!.node].port == target.port) != not
        }.prefix(count))
    }

    @Test func mqtt5ClientsAreToldToUseAnotherServerAtTheRateAskedAndNoWillIsPublished() async throws {
        let tools = try ExternalTools.paths(["mosquitto", "mosquitto_sub"])
        try await withEventLoopGroup { group in
            let a = try await MosquittoBroker.start(binary: tools["mosquitto"]!)
            let b = try await MosquittoBroker.start(binary: tools["mosquitto"]!)
            defer { a.stop(); b.stop() }
            let v5 = try await ProxyHarness.start(resources: .with(routes: [("5", Self.route([a, b]))]), group: group)
            let v3 = try await ProxyHarness.start(resources: .with(routes: [("4", Self.route([a, b], level: 4))]),
                                                  group: group)
            // Anything published as a will on the drained broker would show here.
            let wills = try ChildProcess(tools["mosquitto_sub"]!, ["-h", a.host, "-p", "\(a.port)", "-t", "will/#",
                                                                   "-v", "-V", "mqttv5"])
            defer { wills.stop() }
            let movers = Self.ids(10, on: a, among: [a, b], prefix: "mover")
            let stayers = Self.ids(5, on: a, among: [a, b], prefix: "stayer", not: true)
            let legacy = Self.ids(4, on: a, among: [a, b], prefix: "legacy")
            let modern = try await PahoClients(ids: movers + stayers, version: 5, port: v5.port)
            let old = try await PahoClients(ids: legacy, version: 4, port: v3.port)
            #expect(v5.engine.snapshot().connections.count == 15)
            #expect(v3.engine.snapshot().connections.count == 4)

            let rate = 5.0
            _ = try await v5.engine.drain(node: a.address, evictPerSecond: rate, serverReference: "mqtt-b.example:1883")
            _ = try await v3.engine.drain(node: a.address, evictPerSecond: 20, serverReference: nil)
            #expect(await until(v5.engine, timeout: 15) { snap in !snap.connections.contains { $0.node == a.address } })
            #expect(await until(v3.engine, timeout: 15) { snap in snap.connections.isEmpty })
            // While drained, a client the ring gives to the drained node is placed on the next one.
            let late = try #require(try await HealthEndToEndTests.connected(v5, movers[0], level: 5))
            #expect(v5.engine.snapshot().connections.last { $0.clientID == movers[0] }?.node == b.address)
            await late.close()

            #expect(await modern.waitForDisconnects(movers.count), "the moved clients saw their DISCONNECT")
            let outcomes = try await modern.finish()
            let moved = outcomes.filter { movers.contains($0.id) }
            #expect(moved.count == 10)
            for o in moved {
                #expect(o.reason == Int(ReasonCode.useAnotherServer.rawValue), "\(o.id): reason \(String(describing: o.reason))")
                #expect(o.serverReference == "mqtt-b.example:1883", "\(o.id)")
            }
            for o in outcomes where stayers.contains(o.id) {
                #expect(o.at == nil, "\(o.id) on the other node was disconnected")
            }
            // Ten clients at five a second: nine intervals of 0.2 s between the first and the last. Never faster
            // (−20 % for the clients' own timestamps); a loaded machine may make it slower.
            let times = moved.compactMap(\.at).sorted()
            let span = (times.last ?? 0) - (times.first ?? 0)
            print("drain: 10 evictions at \(rate)/s took \(String(format: "%.2f", span)) s (expected 1.8 s)")
            #expect(span >= 1.8 * 0.8 && span <= 1.8 * 2, "span \(span) s")
            #expect(await old.waitForDisconnects(legacy.count), "the 3.1.1 clients saw their close")
            let oldOutcomes = try await old.finish()
            #expect(oldOutcomes.allSatisfy { $0.at != nil }, "every 3.1.1 client is closed")
            let evicted = v5.engine.snapshot().health.first { $0.node == a.address }?.drain?.evicted
            #expect(evicted == 10)

            // No will fired for a client that was only moved.
            try await Task.sleep(nanoseconds: 500_000_000)
            wills.stop()
            #expect(!wills.text.contains("will/"), "wills published: \(wills.text)")
            #expect(await v5.engine.undrain(node: a.address))
            await v5.stop()
            await v3.stop()
        }
    }

    @Test func aSubscriberEvictedDuringA64KiBPublishStreamReceivesOnlyWholePackets() async throws {
        let tools = try ExternalTools.paths(["mosquitto"])
        try await withEventLoopGroup { group in
            let a = try await MosquittoBroker.start(binary: tools["mosquitto"]!)
            let b = try await MosquittoBroker.start(binary: tools["mosquitto"]!)
            defer { a.stop(); b.stop() }
            let proxy = try await ProxyHarness.start(resources: .with(routes: [("1", Self.route([a, b]))]), group: group)
            let id = Self.ids(1, on: a, among: [a, b], prefix: "bulk-subscriber")[0]
            let subscriber = try await proxy.client()
            try await subscriber.send(Array(ConnectPacket(protocolLevel: 5, clientID: id).encoded.readableBytesView))
            let subscribe = SubscribePacket(packetID: 1, requests: [.init(filter: "bulk/#", options: .init(qos: 0))])
            try await subscriber.send(Array(subscribe.encoded(protocolLevel: 5).readableBytesView))
            #expect(await subscriber.waitForBytes(4 + 6).count >= 10)  // CONNACK, SUBACK
            // A publisher straight on the broker: 64 KiB payloads, as fast as it can.
            let publisher = try await TestClient.connect(host: a.host, port: a.port, group: group)
            try await publisher.send(Array(ConnectPacket(protocolLevel: 5, clientID: "bulk-publisher").encoded.readableBytesView))
            _ = await publisher.waitForBytes(4)
            let message = Array(PublishPacket(topic: "bulk/x", payload: ByteBuffer(repeating: 0x42, count: 64 * 1024))
                .encoded(protocolLevel: 5).readableBytesView)
            let pump = Task {
                for _ in 0..<400 where !Task.isCancelled { try? await publisher.send(message) }
            }
            #expect(await eventually(timeout: 10) { subscriber.received.bytes.count > 20 * message.count })
            _ = try await proxy.engine.drain(node: a.address, evictPerSecond: 100, serverReference: "b:1883")
            #expect(await subscriber.waitForClose(timeout: 10))
            pump.cancel()
            await publisher.close()

            // Everything the subscriber got splits into whole packets, and the last is the DISCONNECT.
            var stream = ByteBuffer(bytes: subscriber.received.bytes)
            var frames: [MQTTFrame] = []
            while let frame = try MQTTFrameDecoder.nextFrame(in: &stream, maxPacketSize: 1 << 20) { frames.append(frame) }
            #expect(stream.readableBytes == 0, "\(stream.readableBytes) bytes of a cut packet at the end")
            #expect(frames.filter { $0.type == .publish }.count > 20)
            let last = try #require(frames.last)
            #expect(last.type == .disconnect)
            #expect(last.body.getInteger(at: last.body.readerIndex, as: UInt8.self) == ReasonCode.useAnotherServer.rawValue)
            await proxy.stop()
        }
    }
}

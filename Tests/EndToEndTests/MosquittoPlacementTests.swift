import Foundation
import LoadBalancing
import NIOPosix
import ProxyEngine
import ProxyModel
import ProxyTestSupport
import Testing

/// Real brokers, real clients: mosquitto_pub / mosquitto_sub through the proxy to two mosquitto processes.
@Suite("End to end with mosquitto", .serialized, .requires("mosquitto", "mosquitto_pub", "mosquitto_sub"))
struct MosquittoPlacementTests {
    struct Rig {
        var brokers: [MosquittoBroker]
        var proxy: ProxyHarness
        var pub: String
        var sub: String

        /// Where APISIX's ring puts `clientID`.
        func predicted(_ clientID: String) -> MosquittoBroker {
            let ring = ConsistentHashRing(servers: brokers.map { ($0.address, 1) })
            return brokers[ring.lookup(clientID)!.node]
        }

        func stop() async {
            await proxy.stop()
            for b in brokers { b.stop() }
        }
    }

    func rig(level: Int, group: MultiThreadedEventLoopGroup) async throws -> Rig {
        let tools = try ExternalTools.paths(["mosquitto", "mosquitto_pub", "mosquitto_sub"])
        let a = try await MosquittoBroker.start(binary: tools["mosquitto"]!)
        let b = try await MosquittoBroker.start(binary: tools["mosquitto"]!)
        let route: JSONValue = [
            "plugins": ["mqtt-proxy": ["protocol_name": "MQTT", "protocol_level": .int(level)]],
            "upstream": ["type": "chash", "key": "mqtt_client_id",
                         "nodes": [["host": "127.0.0.1", "port": .int(a.port), "weight": 1],
                                   ["host": "127.0.0.1", "port": .int(b.port), "weight": 1]]],
        ]
        let proxy = try await ProxyHarness.start(resources: .with(routes: [("1", route)]), group: group)
        return Rig(brokers: [a, b], proxy: proxy, pub: tools["mosquitto_pub"]!, sub: tools["mosquitto_sub"]!)
    }

    func version(_ level: Int) -> String { level == 5 ? "mqttv5" : "mqttv311" }

    /// Publishes a retained message through the proxy as `clientID`.
    func publish(_ rig: Rig, level: Int, clientID: String, topic: String, message: String) async throws -> Int32? {
        let p = try ChildProcess(rig.pub, ["-h", "127.0.0.1", "-p", "\(rig.proxy.port)", "-V", version(level),
                                           "-i", clientID, "-t", topic, "-m", message, "-r", "-q", "1"])
        return await p.wait(timeout: 10)
    }

    /// Subscribes on `port` and returns the first message, or nil when none comes within `seconds`.
    func receive(_ rig: Rig, port: Int, level: Int, clientID: String, topic: String, seconds: Int) async throws
        -> String?
    {
        let s = try ChildProcess(rig.sub, ["-h", "127.0.0.1", "-p", "\(port)", "-V", version(level), "-i", clientID,
                                           "-t", topic, "-C", "1", "-W", "\(seconds)"])
        let status = await s.wait(timeout: Double(seconds) + 5)
        guard status == 0 else { return nil }
        return s.text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test(arguments: [4, 5])
    func eachClientLandsOnThePredictedBrokerAndMessagesRoundTrip(level: Int) async throws {
        try await withEventLoopGroup { group in
            let rig = try await rig(level: level, group: group)
            defer { Task { await rig.stop() } }
            var ids = ["sensor-0001", "sensor-0042", "truck-eu-17", "meter/7", "f", "g", "device-α"]
            // The brokers' ports are random, so the ring is too: make sure both brokers get one of the ids.
            if Set(ids.map { rig.predicted($0).port }).count < 2,
               let other = (0..<100).map({ "spread-\($0)" }).first(where: { rig.predicted($0).port != rig.predicted(ids[0]).port })
            {
                ids.append(other)
            }
            var used: Set<Int> = []
            for id in ids {
                let broker = rig.predicted(id)
                let other = rig.brokers.first { $0.port != broker.port }!
                used.insert(broker.port)
                let topic = "e2e/\(level)/\(id.unicodeScalars.map { String($0.value) }.joined())"
                let status = try await publish(rig, level: level, clientID: id, topic: topic, message: "from \(id)")
                #expect(status == 0, "mosquitto_pub as \(id) exited \(String(describing: status))")
                // The retained message sits on the predicted broker, checked by subscribing to it directly …
                let got = try await receive(rig, port: broker.port, level: level, clientID: "check-\(id)",
                                            topic: topic, seconds: 5)
                #expect(got == "from \(id)", "client \(id) should be on \(broker.address)")
                // … and not on the other one.
                let stray = try await receive(rig, port: other.port, level: level, clientID: "stray-\(id)",
                                              topic: topic, seconds: 1)
                #expect(stray == nil, "client \(id) leaked to \(other.address)")
            }
            #expect(used.count == 2, "the sample ids should use both brokers")

            // A subscriber through the proxy receives what a publisher through the proxy sent to the same broker.
            let target = rig.predicted("publisher-1")
            let subscriberID = (0..<200).map { "subscriber-\($0)" }.first { rig.predicted($0).port == target.port }!
            let topic = "e2e/\(level)/roundtrip"
            _ = try await publish(rig, level: level, clientID: "publisher-1", topic: topic, message: "round trip")
            let got = try await receive(rig, port: rig.proxy.port, level: level, clientID: subscriberID,
                                        topic: topic, seconds: 5)
            #expect(got == "round trip")
            let snap = rig.proxy.engine.snapshot()
            #expect(snap.totalRejected == 0)
            #expect(snap.routes.first?.total == ids.count + 2)
            await rig.stop()
        }
    }

    @Test func aWrongVersionIsRefusedWithConnack() async throws {
        try await withEventLoopGroup { group in
            let rig = try await rig(level: 4, group: group)
            let p = try ChildProcess(rig.pub, ["-h", "127.0.0.1", "-p", "\(rig.proxy.port)", "-V", "mqttv5",
                                               "-i", "v5-on-v4", "-t", "x", "-m", "y"])
            let status = await p.wait(timeout: 10)
            #expect(status != 0)
            #expect(p.text.lowercased().contains("protocol version"), "mosquitto_pub said: \(p.text)")
            #expect(rig.proxy.engine.snapshot().routes.first?.rejected[.protocolMismatch] == 1)
            await rig.stop()
        }
    }
}


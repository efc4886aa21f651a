import Foundation
import LoadBalancing
import MQTTCodec
import NIOPosix
import ProxyControl
import ProxyEngine
import ProxyModel
import ProxyTestSupport
import Testing

/// Active MQTT health checks against real mosquitto brokers: one frozen with SIGSTOP (it accepts TCP and never
/// answers), one refusing anonymous clients.
@Suite("Health checks with mosquitto", .serialized, .requires("mosquitto"))
struct HealthEndToEndTests {
    /// A chash route over `brokers` with an active MQTT check (1 s intervals, 0.5 s probe timeout).
    static func route(_ brokers: [MosquittoBroker], unhealthy: JSONValue = ["interval": 1, "timeouts": 2]) -> JSONValue {
        [
            "plugins": ["mqtt-proxy": ["protocol_name": "MQTT", "protocol_level": 4]],
            "upstream": [
                "type": "chash", "key": "mqtt_client_id",
                "nodes": .array(brokers.map { ["host": .string($0.host), "port": .int($0.port), "weight": 1] }),
                "checks": ["active": ["type": "mqtt", "timeout": 0.5, "healthy": ["interval": 1, "successes": 1],
                                      "unhealthy": unhealthy]],
            ],
        ]
    }

    /// A client id the ring (over `brokers`, weight 1) puts on `target`.
    static func id(on target: MosquittoBroker, among brokers: [MosquittoBroker], prefix: String) -> String {
        let ring = ConsistentHashRing(servers: brokers.map { ($0.address, 1) })
        return (0..<1000).map { "\(prefix)-\($0)" }.first { brokers[ring.lookup($0)!.node].port == target.port }!
    }

    /// Connects through the proxy as `clientID` and returns the client once its CONNACK arrived (nil if none came
    /// within `timeout`).
    static func connected(_ proxy: ProxyHarness, _ clientID: String, level: UInt8 = 4, timeout: Double = 2) async throws
        -> TestClient?
    {
        let client = try await proxy.client()
        try await client.send(Array(ConnectPacket(protocolLevel: level, clientID: clientID).encoded.readableBytesView))
        let reply = await client.waitForBytes(4, timeout: timeout)
        guard reply.count >= 4, reply[0] == 0x20, reply[3] == 0 else {
            await client.close()
            return nil
        }
        return client
    }

    static func health(_ proxy: ProxyHarness, _ broker: MosquittoBroker) -> NodeHealth? {
        proxy.engine.snapshot().health.first { $0.node == broker.address }
    }

    @Test func aFrozenBrokerTurnsUnhealthyItsClientsGoToTheNextNodeAndComeBackWhenItAnswers() async throws {
        let tools = try ExternalTools.paths(["mosquitto"])
        try await withEventLoopGroup { group in
            let a = try await MosquittoBroker.start(binary: tools["mosquitto"]!)
            let b = try await MosquittoBroker.start(binary: tools["mosquitto"]!)
            defer { a.stop(); b.stop() }
            let proxy = try await ProxyHarness.start(resources: .with(routes: [("1", Self.route([a, b]))]), group: group)
            let id = Self.id(on: a, among: [a, b], prefix: "frozen")
            // The first client starts the checks (APISIX probes an upstream once it is used).
            let first = try #require(try await Self.connected(proxy, id), "no CONNACK from \(a.address)")
            #expect(proxy.engine.snapshot().connections.first?.node == a.address)
            await first.close()

            a.hang()
            let frozenAt = Date()
            #expect(await until(proxy.engine, timeout: 15) { snap in
                snap.health.first { $0.node == a.address }?.healthy == false
            }, "the frozen broker was never counted down")
            let detected = Date().timeIntervalSince(frozenAt)
            print("health: \(a.address) frozen → unhealthy after \(String(format: "%.2f", detected)) s")
            #expect(Self.health(proxy, a)?.reason?.contains("no CONNACK") == true, "\(String(describing: Self.health(proxy, a)))")

            // The same client id now gets its CONNACK from the next ring node, at once.
            let started = Date()
            let moved = try #require(try await Self.connected(proxy, id, timeout: 2), "no CONNACK while a is frozen")
            print("health: reconnect after the node was counted down got its CONNACK in "
                  + String(format: "%.0f ms", Date().timeIntervalSince(started) * 1000))
            #expect(proxy.engine.snapshot().connections.last { $0.clientID == id }?.node == b.address)
            await moved.close()

            a.unhang()
            #expect(await until(proxy.engine, timeout: 15) { snap in
                snap.health.first { $0.node == a.address }?.healthy == true
            }, "the broker answering again was never counted up")
            let back = try #require(try await Self.connected(proxy, id))
            #expect(proxy.engine.snapshot().connections.last { $0.clientID == id }?.node == a.address)
            await back.close()
            #expect(proxy.engine.snapshot().events.contains { $0.kind == .health && $0.message.contains("unhealthy") })
            await proxy.stop()
        }
    }

    @Test func aBrokerRefusingTheProbesCONNECTIsUnhealthyWithItsCode() async throws {
        let tools = try ExternalTools.paths(["mosquitto"])
        try await withEventLoopGroup { group in
            let open = try await MosquittoBroker.start(binary: tools["mosquitto"]!)
            let closed = try await MosquittoBroker.start(binary: tools["mosquitto"]!, allowAnonymous: false)
            defer { open.stop(); closed.stop() }
            let route = Self.route([open, closed], unhealthy: ["interval": 1, "mqtt_failures": 1])
            let proxy = try await ProxyHarness.start(resources: .with(routes: [("1", route)]), group: group)
            let client = try #require(try await Self.connected(proxy, Self.id(on: open, among: [open, closed],
                                                                              prefix: "probe-starter")))
            #expect(await until(proxy.engine, timeout: 10) { snap in
                snap.health.first { $0.node == closed.address }?.healthy == false
            })
            let health = try #require(Self.health(proxy, closed))
            #expect(health.reason == "CONNACK 0x05 not authorized", "\(health)")
            #expect(health.checkType == "mqtt")
            #expect(Self.health(proxy, open)?.healthy == true)
            // Its clients go to the broker that answers.
            let refusedID = Self.id(on: closed, among: [open, closed], prefix: "would-be-refused")
            let placed = try #require(try await Self.connected(proxy, refusedID))
            #expect(proxy.engine.snapshot().connections.last { $0.clientID == refusedID }?.node == open.address)
            await placed.close()
            await client.close()
            await proxy.stop()
        }
    }
}

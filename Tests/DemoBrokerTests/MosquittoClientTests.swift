import DemoBroker
import Foundation
import ProxyTestSupport
import Testing

/// Round trips with the real `mosquitto_sub` / `mosquitto_pub` (skipped loudly when they are not installed).
@Suite("Demo broker with mosquitto clients", .timeLimit(.minutes(1)))
struct MosquittoClientTests {
    @Test("mosquitto_pub → demo broker → mosquitto_sub: QoS 0, QoS 1 and a retained message",
          .requires("mosquitto_pub", "mosquitto_sub"),
          arguments: ["mqttv311", "mqttv5"])
    func roundTrip(version: String) async throws {
        let tools = try ExternalTools.paths(["mosquitto_pub", "mosquitto_sub"])
        let pubPath = tools["mosquitto_pub"]!
        let subPath = tools["mosquitto_sub"]!
        try await withBroker(name: "mosq-\(version)") { broker, _ in
            let common = ["-h", broker.host, "-p", "\(broker.port)", "-V", version]

            func publish(_ topic: String, _ message: String, _ extra: [String]) async throws {
                let arguments = common + ["-i", "pub-\(version)", "-t", topic, "-m", message] + extra
                let pub = try ChildProcess(pubPath, arguments)
                let status = await pub.wait(timeout: 10)
                #expect(status == 0, "mosquitto_pub \(topic) exited with \(String(describing: status)): \(pub.text)")
            }

            try await publish("demo/retained", "kept", ["-q", "1", "-r"])
            #expect(await eventually { broker.retainedTopics == ["demo/retained"] })

            let sub = try ChildProcess(subPath, common + ["-i", "sub-\(version)", "-t", "demo/#", "-q", "1", "-v",
                                                          "-C", "3", "-W", "20"])
            // The retained message is sent right after the SUBACK: once it is out, the subscription is in place.
            #expect(await eventually(timeout: 10) { broker.messagesOut >= 1 })
            #expect(await eventually { broker.connectedClients == ["sub-\(version)"] })

            try await publish("demo/q0", "zero", ["-q", "0"])
            try await publish("demo/q1", "one", ["-q", "1"])

            let status = await sub.wait(timeout: 15)
            #expect(status == 0, "mosquitto_sub exited with \(String(describing: status)): \(sub.text)")
            let lines = sub.text.split(separator: "\n").map(String.init)
            #expect(lines == ["demo/retained kept", "demo/q0 zero", "demo/q1 one"])
            #expect(broker.messagesIn == 3)
            #expect(await eventually { broker.clientCount == 0 })
        }
    }
}

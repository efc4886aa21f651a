import DemoBroker
import Foundation
import NIOCore
import ProxyTestSupport
import Testing

/// MQTT 5 subscription options, and many clients at once.
@Suite("Demo broker subscription options and fan-out", .timeLimit(.minutes(1)))
struct SubscriptionOptionsTests {
    @Test("MQTT 5 No Local, Retain As Published and Retain Handling 2")
    func mqtt5Options() async throws {
        try await withBroker { broker, group in
            let owner = try await Peer.connect(broker, group: group, clientID: "owner", level: 5)
            // No Local (0x04): the owner does not get its own messages; "end" marks the end of the stream.
            _ = try await owner.exchange(Wire.subscribe(id: 1, [("o/#", 0x04), ("end", 0x00)], level: 5))
            let keeper = try await Peer.connect(broker, group: group, clientID: "keeper", level: 5)
            // Retain As Published (0x08): live messages keep their RETAIN flag.
            _ = try await keeper.exchange(Wire.subscribe(id: 1, [("o/#", 0x08)], level: 5))
            try await owner.send(Wire.publish("o/1", "mine", retain: true, level: 5))
            try await owner.send(Wire.publish("end", ".", level: 5))
            #expect(await owner.nextPacket() == Wire.publish("end", ".", level: 5))
            #expect(await keeper.nextPacket() == Wire.publish("o/1", "mine", retain: true, level: 5))

            // Retain Handling 2 (0x20): no retained messages at subscribe time.
            let late = try await Peer.connect(broker, group: group, clientID: "late", level: 5)
            _ = try await late.exchange(Wire.subscribe(id: 2, [("o/#", 0x20)], level: 5))
            #expect(try await late.exchange(Wire.pingreq) == Wire.pingresp)
        }
    }

    @Test("100 clients connect at once and all receive a published message")
    func fanOut() async throws {
        try await withBroker { broker, group in
            let count = 100
            let peers = try await withThrowingTaskGroup(of: TestClient.self) { tasks in
                for index in 0..<count {
                    tasks.addTask {
                        let client = try await TestClient.connect(host: broker.host, port: broker.port, group: group)
                        try await client.send(ConnectBytes.make(clientID: "c\(index)")
                            + Wire.subscribe(id: 1, [("fan/#", 1)]))
                        return client
                    }
                }
                return try await tasks.reduce(into: []) { $0.append($1) }
            }
            // CONNACK (4 bytes) and SUBACK (5 bytes) each.
            for peer in peers { await peer.waitForBytes(9) }
            #expect(broker.clientCount == count)
            let publisher = try await Peer.connect(broker, group: group, clientID: "publisher")
            #expect(try await publisher.exchange(Wire.publish("fan/out", "hi", qos: 1, id: 3)) == [0x40, 2, 0, 3])
            let suback: [UInt8] = [0x90, 0x03, 0x00, 0x01, 0x01]
            let expected = Wire.connackV3 + suback + Wire.publish("fan/out", "hi", qos: 1, id: 1)
            for peer in peers {
                #expect(await peer.waitForBytes(expected.count) == expected)
            }
            #expect(broker.messagesOut == count)
        }
    }
}

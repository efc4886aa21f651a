import DemoBroker
import Foundation
import MQTTCodec
import NIOCore
import ProxyTestSupport
import Testing

/// CONNECT, PING, takeover, malformed input and keep-alive, over real loopback sockets with raw bytes.
@Suite("Demo broker connections", .timeLimit(.minutes(1)))
struct ConnectionTests {
    @Test("CONNACK is exactly 20 02 00 00 for MQTT 3.1 and 3.1.1")
    func connackV3() async throws {
        try await withBroker { broker, group in
            for (level, id) in [(UInt8(3), "v31"), (4, "v311")] {
                let peer = try await Peer.open(broker, group: group)
                #expect(try await peer.exchange(ConnectBytes.make(clientID: id, level: level)) == Wire.connackV3)
            }
            #expect(await eventually { broker.connectedClients == ["v31", "v311"] })
            #expect(broker.clientCount == 2)
            #expect(broker.connectsTotal == 2)
        }
    }

    @Test("CONNACK is exactly 20 03 00 00 00 for MQTT 5")
    func connackV5() async throws {
        try await withBroker { broker, group in
            let peer = try await Peer.open(broker, group: group)
            #expect(try await peer.exchange(ConnectBytes.make(clientID: "v5", level: 5)) == Wire.connackV5)
            #expect(broker.connectedClients == ["v5"])
        }
    }

    @Test("An empty client id is accepted with clean start; MQTT 5 is told the assigned id")
    func emptyClientID() async throws {
        try await withBroker(name: "b1") { broker, group in
            let v3 = try await Peer.open(broker, group: group)
            #expect(try await v3.exchange(ConnectBytes.make(clientID: "", level: 4)) == Wire.connackV3)
            let v5 = try await Peer.open(broker, group: group)
            let assigned = "b1-auto-2"
            let property: [UInt8] = [0x12] + Wire.string(assigned)
            let expected: [UInt8] = Wire.frame(0x20, [0x00, 0x00, UInt8(property.count)] + property)
            #expect(try await v5.exchange(ConnectBytes.make(clientID: "", level: 5)) == expected)
            #expect(broker.connectedClients == ["b1-auto-1", assigned])
        }
    }

    @Test("An unsupported protocol level is refused with return code 1 and closed")
    func unsupportedLevel() async throws {
        try await withBroker { broker, group in
            let peer = try await Peer.open(broker, group: group)
            #expect(try await peer.exchange(ConnectBytes.make(clientID: "x", level: 6)) == [0x20, 0x02, 0x00, 0x01])
            #expect(await peer.waitForClose())
            #expect(broker.clientCount == 0)
        }
    }

    @Test("PINGREQ gets PINGRESP")
    func ping() async throws {
        try await withBroker { broker, group in
            for level: UInt8 in [4, 5] {
                let peer = try await Peer.connect(broker, group: group, clientID: "p\(level)", level: level)
                #expect(try await peer.exchange(Wire.pingreq) == Wire.pingresp)
                #expect(try await peer.exchange(Wire.pingreq) == Wire.pingresp)
            }
        }
    }

    @Test("DISCONNECT closes the connection and ends the session")
    func disconnect() async throws {
        try await withBroker { broker, group in
            let peer = try await Peer.connect(broker, group: group, clientID: "bye")
            try await peer.send(Wire.disconnect)
            #expect(await peer.waitForClose())
            #expect(await eventually { broker.clientCount == 0 })
        }
    }

    @Test("Malformed bytes close only the connection that sent them")
    func malformedClosesOnlyThatConnection() async throws {
        try await withBroker { broker, group in
            let good = try await Peer.connect(broker, group: group, clientID: "good")
            // Packet type 0 is reserved.
            let garbage = try await Peer.connect(broker, group: group, clientID: "garbage")
            try await garbage.send([0x00, 0x00])
            #expect(await garbage.waitForClose())
            // A SUBSCRIBE without its required flags 0x2.
            let badFlags = try await Peer.connect(broker, group: group, clientID: "bad-flags")
            try await badFlags.send([0x80, 0x06, 0x00, 0x01, 0x00, 0x01, 0x61, 0x00])
            #expect(await badFlags.waitForClose())
            // Not a CONNECT first.
            let noConnect = try await Peer.open(broker, group: group)
            try await noConnect.send(Wire.pingreq)
            #expect(await noConnect.waitForClose())
            // MQTT 5: a wildcard in a PUBLISH topic gets DISCONNECT 0x90 (topic name invalid), then the close.
            let v5 = try await Peer.connect(broker, group: group, clientID: "v5", level: 5)
            #expect(try await v5.exchange(Wire.publish("a/#", "x", level: 5)) == [0xE0, 0x02, 0x90, 0x00])
            #expect(await v5.waitForClose())
            // MQTT 3.1.1: a truncated SUBSCRIBE body.
            let truncated = try await Peer.connect(broker, group: group, clientID: "truncated")
            try await truncated.send([0x82, 0x04, 0x00, 0x01, 0x00, 0x05])
            #expect(await truncated.waitForClose())

            #expect(try await good.exchange(Wire.pingreq) == Wire.pingresp)
            #expect(!good.isClosed)
            #expect(await eventually { broker.connectedClients == ["good"] })
        }
    }

    @Test("A second CONNECT with the same client id closes the older connection")
    func takeover() async throws {
        try await withBroker { broker, group in
            let first = try await Peer.connect(broker, group: group, clientID: "same")
            let second = try await Peer.connect(broker, group: group, clientID: "same")
            #expect(await first.waitForClose())
            #expect(try await second.exchange(Wire.pingreq) == Wire.pingresp)
            #expect(broker.connectedClients == ["same"])
            #expect(broker.connectsTotal == 2)

            // An MQTT 5 client is told why: DISCONNECT 0x8E (session taken over).
            let old5 = try await Peer.connect(broker, group: group, clientID: "same5", level: 5)
            let new5 = try await Peer.connect(broker, group: group, clientID: "same5", level: 5)
            #expect(await old5.nextPacket() == [0xE0, 0x02, 0x8E, 0x00])
            #expect(await old5.waitForClose())
            #expect(try await new5.exchange(Wire.pingreq) == Wire.pingresp)
            #expect(broker.connectedClients == ["same", "same5"])
        }
    }

    @Test("A client silent for 1.5 × its keep-alive is closed; one that pings stays")
    func keepAlive() async throws {
        try await withBroker { broker, group in
            // Keep-alive 2 s (closed after 3 s of silence), pings every 0.5 s: a wide margin on a busy machine.
            let silent = try await Peer.connect(broker, group: group, clientID: "silent", keepAlive: 2)
            let connected = Date()
            let busy = try await Peer.connect(broker, group: group, clientID: "busy", keepAlive: 2)
            let v5 = try await Peer.connect(broker, group: group, clientID: "silent5", level: 5, keepAlive: 2)
            for _ in 0..<8 {
                try await Task.sleep(nanoseconds: 500_000_000)
                #expect(try await busy.exchange(Wire.pingreq) == Wire.pingresp)
                // Well before 1.5 × keep-alive of silence the connection must still be open.
                if Date().timeIntervalSince(connected) < 2.4 {
                    #expect(!silent.isClosed)
                }
            }
            #expect(await silent.waitForClose())
            // MQTT 5 learns the reason: DISCONNECT 0x8D (keep alive timeout).
            #expect(await v5.nextPacket() == [0xE0, 0x02, 0x8D, 0x00])
            #expect(!busy.isClosed)
            #expect(broker.connectedClients == ["busy"])
        }
    }
}

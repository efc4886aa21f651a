import DemoBroker
import Foundation
import Logging
import MQTTCodec
import NIOCore
import NIOPosix
import ProxyTestSupport

/// Raw MQTT packets for the tests, built byte by byte (independently of the broker's own encoders).
enum Wire {
    /// A packet: first byte, remaining length, body.
    static func frame(_ first: UInt8, _ body: [UInt8]) -> [UInt8] {
        [first] + VariableByteInteger.encode(body.count) + body
    }

    /// An MQTT string: two-byte length, then UTF-8.
    static func string(_ text: String) -> [UInt8] {
        let bytes = Array(text.utf8)
        return [UInt8(bytes.count >> 8), UInt8(bytes.count & 0xFF)] + bytes
    }

    static func id(_ value: UInt16) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xFF)] }

    static func subscribe(id packetID: UInt16, _ filters: [(String, UInt8)], level: UInt8 = 4) -> [UInt8] {
        var body = id(packetID) + (level == 5 ? [0x00] : [])
        for (filter, options) in filters { body += string(filter) + [options] }
        return frame(0x82, body)
    }

    static func unsubscribe(id packetID: UInt16, _ filters: [String], level: UInt8 = 4) -> [UInt8] {
        var body = id(packetID) + (level == 5 ? [0x00] : [])
        for filter in filters { body += string(filter) }
        return frame(0xA2, body)
    }

    /// A PUBLISH as a client sends it, or as the broker is expected to deliver it.
    static func publish(_ topic: String, _ payload: String, qos: UInt8 = 0, id packetID: UInt16? = nil,
                        retain: Bool = false, level: UInt8 = 4) -> [UInt8]
    {
        var body = string(topic)
        if qos > 0 { body += id(packetID ?? 1) }
        if level == 5 { body.append(0x00) }
        body += Array(payload.utf8)
        return frame(0x30 | qos << 1 | (retain ? 1 : 0), body)
    }

    static let pingreq: [UInt8] = [0xC0, 0x00]
    static let pingresp: [UInt8] = [0xD0, 0x00]
    static let disconnect: [UInt8] = [0xE0, 0x00]
    static let connackV3: [UInt8] = [0x20, 0x02, 0x00, 0x00]
    static let connackV5: [UInt8] = [0x20, 0x03, 0x00, 0x00, 0x00]
}

/// A test client got something other than what the test needs to go on.
enum PeerError: Error {
    case unexpectedConnack(String)
}

/// A loopback MQTT client speaking raw bytes, reading the broker's answers one packet at a time.
final class Peer {
    let client: TestClient
    private var consumed = 0

    init(_ client: TestClient) {
        self.client = client
    }

    /// Opens a TCP connection to `broker` without sending anything.
    static func open(_ broker: DemoBroker, group: EventLoopGroup) async throws -> Peer {
        Peer(try await TestClient.connect(host: broker.host, port: broker.port, group: group))
    }

    /// Connects and completes the CONNECT / CONNACK exchange; fails unless the CONNACK is the plain success.
    static func connect(_ broker: DemoBroker, group: EventLoopGroup, clientID: String, level: UInt8 = 4,
                        keepAlive: UInt16 = 60) async throws -> Peer
    {
        let peer = try await open(broker, group: group)
        try await peer.send(ConnectBytes.make(clientID: clientID, level: level, keepAlive: keepAlive))
        let connack = await peer.nextPacket()
        guard connack == (level == 5 ? Wire.connackV5 : Wire.connackV3) else {
            throw PeerError.unexpectedConnack("unexpected CONNACK \(connack.map { "\($0)" } ?? "nil") for \(clientID)")
        }
        return peer
    }

    func send(_ bytes: [UInt8]) async throws {
        try await client.send(bytes)
    }

    /// The next whole packet from the broker, or nil when none comes within `timeout` or the connection closed.
    func nextPacket(timeout: Double = 5) async -> [UInt8]? {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let bytes = client.received.bytes
            if bytes.count >= consumed + 2,
               case .value(let length, let count) = VariableByteInteger.decode(bytes[(consumed + 1)...]),
               bytes.count >= consumed + 1 + count + length
            {
                let packet = Array(bytes[consumed..<(consumed + 1 + count + length)])
                consumed += packet.count
                return packet
            }
            if client.received.closed || Date() >= deadline { return nil }
            try? await Task.sleep(nanoseconds: 5_000_000)
        }
    }

    /// Sends `packet` and returns the broker's answer.
    func exchange(_ packet: [UInt8]) async throws -> [UInt8]? {
        try await send(packet)
        return await nextPacket()
    }

    func waitForClose(timeout: Double = 5) async -> Bool {
        await client.waitForClose(timeout: timeout)
    }

    var isClosed: Bool { client.received.closed }

    func close() async {
        await client.close()
    }
}

/// A logger that stays quiet unless `DEMO_BROKER_TEST_LOG` is set (then it logs everything).
func quietLogger() -> Logger {
    var logger = Logger(label: "demo-broker-test")
    logger.logLevel = ProcessInfo.processInfo.environment["DEMO_BROKER_TEST_LOG"] != nil ? .debug : .critical
    return logger
}

/// Runs `body` with a demo broker on a free loopback port, and stops the broker afterwards.
/// `host`: tests that kill and revive a broker give it a loopback address of its own, so that while it is down
/// no other test's outgoing connection can take its port as a local port (the revive would find it in use).
func withBroker<T: Sendable>(name: String = "demo", host: String = "127.0.0.1",
                             _ body: (DemoBroker, EventLoopGroup) async throws -> T)
    async throws -> T
{
    try await withEventLoopGroup { group in
        let broker = try await DemoBroker.start(name: name, host: host, group: group, logger: quietLogger())
        do {
            let result = try await body(broker, group)
            await broker.stop()
            return result
        } catch {
            await broker.stop()
            throw error
        }
    }
}

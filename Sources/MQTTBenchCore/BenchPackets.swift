import MQTTCodec
import NIOCore

/// The MQTT packets the benchmark client sends, built once and written many times.
public enum BenchPackets {
    /// A clean-start CONNECT for `clientID` at `protocolLevel` (4 = 3.1.1, 5 = 5.0 with no properties).
    public static func connect(clientID: String, protocolLevel: UInt8, keepAlive: UInt16 = 60) -> ByteBuffer {
        ConnectPacket(protocolLevel: protocolLevel, keepAlive: keepAlive, clientID: clientID).encoded
    }

    /// DISCONNECT (`E0 00`: normal disconnection, the same bytes in 3.1.1 and 5).
    public static let disconnect = ByteBuffer(bytes: DisconnectEncoder.v3)

    /// PINGREQ (`C0 00`).
    public static let pingreq = ByteBuffer(bytes: PacketEncoder.pingreq)

    /// PINGRESP (`D0 00`).
    public static let pingresp = ByteBuffer(bytes: PacketEncoder.pingresp)

    /// A QoS 0 PUBLISH on `topic` whose whole packet is `packetSize` bytes (payload filled with `0x61`).
    ///
    /// MQTT 5 PUBLISH carries a property length byte (0) between topic and payload. The packet is never
    /// smaller than its header, topic and `minimumPayload` bytes. Where the remaining length grows by a byte
    /// (130, 16,387, … bytes cannot be made) the packet is one byte shorter than asked.
    public static func publish(
        topic: String,
        packetSize: Int,
        protocolLevel: UInt8 = 4,
        minimumPayload: Int = 0
    ) -> ByteBuffer {
        let fixed = 2 + topic.utf8.count + (protocolLevel == 5 ? 1 : 0)
        // Solve 1 + len(varint(body)) + body == packetSize for the body length.
        var body = max(fixed + minimumPayload, packetSize - 2)
        while body > fixed + minimumPayload && 1 + VariableByteInteger.encodedLength(of: body) + body > packetSize {
            body -= 1
        }
        let payload = ByteBuffer(repeating: 0x61, count: body - fixed)
        return publish(topic: topic, payload: payload, protocolLevel: protocolLevel)
    }

    /// A QoS 0 PUBLISH of `payload` on `topic`.
    public static func publish(topic: String, payload: ByteBuffer, protocolLevel: UInt8 = 4) -> ByteBuffer {
        PublishPacket(topic: topic, payload: payload).encoded(protocolLevel: protocolLevel)
    }

    /// `copies` back-to-back copies of `packet`, to be written with one system call.
    public static func batch(of packet: ByteBuffer, copies: Int) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(packet.readableBytes * copies)
        for _ in 0..<copies {
            buffer.writeImmutableBuffer(packet)
        }
        return buffer
    }
}

import APISIXFixtures
import MQTTCodec
import NIOCore
import Testing

/// Bytes from a hex string such as "100f0004".
func bytes(hex: String) -> [UInt8] { hexBytes(hex) }

/// Decodes `bytes` as a CONNECT, optionally with a custom size limit.
func decode(_ bytes: [UInt8], maxPacketSize: Int = ConnectDecoder.defaultMaxPacketSize) -> ConnectDecodeResult {
    ConnectDecoder.decode(ByteBuffer(bytes: bytes), maxPacketSize: maxPacketSize)
}

/// The reason of a malformed result, or nil.
func malformedReason(_ result: ConnectDecodeResult) -> String? {
    if case .malformed(let error) = result {
        return error.reason
    }
    return nil
}

/// The packet of a complete result, or nil.
func completePacket(_ result: ConnectDecodeResult) -> ConnectPacket? {
    if case .complete(let packet) = result {
        return packet
    }
    return nil
}

/// Wire bytes of a packet built in code.
func encode(_ packet: ConnectPacket) -> [UInt8] {
    Array(packet.encoded.readableBytesView)
}

/// Valid CONNECTs covering every version and optional field.
enum Samples {
    static let v31 = ConnectPacket(protocolName: "MQIsdp", protocolLevel: 3, clientID: "legacy-client")
    static let v311 = ConnectPacket(protocolLevel: 4, keepAlive: 30, clientID: "sensor-17")
    static let v311Full = ConnectPacket(
        protocolLevel: 4,
        flags: ConnectFlags([.cleanStart, .willRetain]).settingWillQoS(1),
        clientID: "with-will",
        will: Will(topic: "status/with-will", payload: Array("offline".utf8)),
        username: "alice",
        password: Array("s3cr3t".utf8)
    )
    static let v5Properties = ConnectPacket(
        protocolLevel: 5,
        properties: [
            .sessionExpiryInterval(3600), .receiveMaximum(20), .maximumPacketSize(65536),
            .topicAliasMaximum(10), .init(.requestResponseInformation, .byte(1)),
            .init(.requestProblemInformation, .byte(0)), .userProperty("region", "eu"),
            .userProperty("region", "us"), .authenticationMethod("SCRAM-SHA-1"), .authenticationData([1, 2, 3]),
        ],
        clientID: "v5-client"
    )
    static let v5Full = ConnectPacket(
        protocolLevel: 5,
        flags: ConnectFlags([.cleanStart]).settingWillQoS(2),
        properties: [.sessionExpiryInterval(0)],
        clientID: "v5-will",
        will: Will(
            properties: [
                .willDelayInterval(5), .payloadFormatIndicator(1), .messageExpiryInterval(60),
                .contentType("text/plain"), .init(.responseTopic, .string("replies")),
                .init(.correlationData, .binary([9, 9])), .userProperty("k", "v"),
            ],
            topic: "will/topic",
            payload: Array("bye".utf8)
        ),
        password: [0, 1, 2]
    )

    static let all: [(String, ConnectPacket)] = [
        ("3.1", v31), ("3.1.1", v311), ("3.1.1 will+user+password", v311Full),
        ("5 properties", v5Properties), ("5 will properties, password only", v5Full),
    ]
}

extension ConnectFlags {
    /// A copy with the will QoS field set.
    func settingWillQoS(_ qos: UInt8) -> ConnectFlags {
        var copy = self
        copy.willQoS = qos
        return copy
    }
}

/// Hand-assembled CONNECT bytes, for packets the encoder would never produce.
enum Raw {
    /// Fixed header (minimal remaining length) plus `body`.
    static func connect(_ body: [UInt8]) -> [UInt8] {
        [0x10] + VariableByteInteger.encode(body.count) + body
    }

    /// Two-byte length plus the bytes.
    static func string(_ bytes: [UInt8]) -> [UInt8] {
        [UInt8(bytes.count >> 8), UInt8(bytes.count & 0xFF)] + bytes
    }

    /// Two-byte length plus the UTF-8 bytes.
    static func string(_ text: String) -> [UInt8] {
        string(Array(text.utf8))
    }

    /// A CONNECT in the 3.1.1 layout; `payload` starts with the client id.
    static func v311(name: String = "MQTT", level: UInt8 = 4, flags: UInt8 = 0x02, payload: [UInt8]) -> [UInt8] {
        connect(string(name) + [level, flags, 0x00, 0x3C] + payload)
    }

    /// An MQTT 5 CONNECT with raw property bytes (their length is prepended).
    static func v5(flags: UInt8 = 0x02, properties: [UInt8], payload: [UInt8] = string("id")) -> [UInt8] {
        let header = string("MQTT") + [5, flags, 0x00, 0x3C] + VariableByteInteger.encode(properties.count)
        return connect(header + properties + payload)
    }
}

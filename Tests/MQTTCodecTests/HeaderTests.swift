import MQTTCodec
import NIOCore
import Testing

@Suite("Fixed header and size limit")
struct HeaderTests {
    @Test("any first byte but 0x10 is rejected at once",
          arguments: [0x00, 0x11, 0x12, 0x18, 0x20, 0x30, 0xE0, 0xFF] as [UInt8])
    func wrongFirstByte(first: UInt8) {
        let expected = "first byte 0x\(String(first, radix: 16, uppercase: true).leftPadded) is not CONNECT (0x10)"
        #expect(malformedReason(decode([first])) == expected)
        #expect(malformedReason(decode([first, 0x0F, 0x00, 0x04])) == expected)
        #expect(ConnectDecoder.peekProtocol(ByteBuffer(bytes: [first])) == .malformed(.init(reason: expected)))
    }

    @Test("an empty buffer and a lone 0x10 need more bytes")
    func emptyBuffer() {
        #expect(decode([]) == .needMoreBytes)
        #expect(decode([0x10]) == .needMoreBytes)
        #expect(ConnectDecoder.peekProtocol(ByteBuffer()) == .needMoreBytes)
    }

    @Test("a remaining length with a fifth byte is malformed")
    func fiveByteRemainingLength() {
        let reason = "remaining length longer than 4 bytes"
        #expect(malformedReason(decode([0x10, 0x80, 0x80, 0x80, 0x80], maxPacketSize: .max)) == reason)
        #expect(malformedReason(decode([0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], maxPacketSize: .max)) == reason)
        #expect(decode([0x10, 0xFF, 0xFF, 0xFF], maxPacketSize: .max) == .needMoreBytes)
    }

    @Test("a non-minimal remaining length is accepted")
    func nonMinimalRemainingLength() throws {
        let minimal = bytes(hex: "100f00044d5154540402003c0003666f6f")
        let padded = [0x10, 0x8F, 0x80, 0x00] + minimal[2...]
        let packet = try #require(completePacket(decode(padded)))
        #expect(packet.clientID == "foo")
        #expect(packet.byteCount == minimal.count + 2)
    }

    @Test("the size limit counts the fixed header")
    func sizeLimit() {
        let packet = bytes(hex: "100f00044d5154540402003c0003666f6f")
        #expect(completePacket(decode(packet, maxPacketSize: 17)) != nil)
        #expect(malformedReason(decode(packet, maxPacketSize: 16)) == "CONNECT of 17 bytes exceeds the limit of 16")
        #expect(malformedReason(decode(Array(packet.prefix(2)), maxPacketSize: 16)) != nil)
    }

    @Test("a remaining length too short for the protocol name is malformed")
    func remainingLengthTooShort() {
        #expect(malformedReason(decode([0x10, 0x02, 0x00, 0x04]))
            == "protocol name (4 bytes) runs past the end of the packet")
        #expect(malformedReason(decode([0x10, 0x01, 0x00])) == "protocol name length runs past the end of the packet")
        #expect(malformedReason(decode([0x10, 0x00])) == "protocol name length runs past the end of the packet")
        #expect(malformedReason(decode(bytes(hex: "100600044d515454")))
            == "protocol level runs past the end of the packet")
    }

    @Test("unknown protocol names and levels are returned for the engine to judge")
    func unknownProtocols() throws {
        let level6 = try #require(completePacket(decode(Raw.v311(level: 6, payload: Raw.string("x")))))
        #expect(level6.protocolLevel == 6 && level6.protocolName == "MQTT" && level6.version == nil)
        let other = try #require(completePacket(decode(Raw.v311(name: "MQIsdp", level: 4, payload: Raw.string("x")))))
        #expect(other.protocolName == "MQIsdp" && other.version == nil)
        let legacy = try #require(completePacket(decode(Raw.v311(name: "MQIsdp", level: 3, payload: Raw.string("x")))))
        #expect(legacy.version == .v3_1)
        let empty = try #require(completePacket(decode(Raw.v311(name: "", level: 0, payload: Raw.string("")))))
        #expect(empty.protocolName.isEmpty)
    }

    @Test("a malformed packet reports the protocol level once it was read")
    func malformedCarriesLevel() {
        let broken = Raw.v311(level: 6, payload: [0x00, 0x09, 0x61])
        let reason = "client id (9 bytes) runs past the end of the packet"
        #expect(decode(broken) == .malformed(.init(reason: reason, protocolLevel: 6)))
        let v5AsV311 = Raw.v311(level: 5, payload: Raw.string("foo"))
        guard case .malformed(let error) = decode(v5AsV311) else {
            Issue.record("3.1.1 layout with level 5 must be malformed")
            return
        }
        #expect(error.protocolLevel == 5)
        #expect(error.description.hasSuffix("(protocol level 5)"))
    }

    @Test("bytes after the payload inside the remaining length are malformed, even before they arrive")
    func trailingBytes() {
        let body = Raw.string("MQTT") + [4, 0x02, 0x00, 0x3C] + Raw.string("foo")
        let packet = [0x10, UInt8(body.count + 2)] + body + [0xAB, 0xCD]
        let error = ConnectDecodeError(reason: "2 trailing bytes after CONNECT payload", protocolLevel: 4)
        #expect(decode(packet) == .malformed(error))
        #expect(decode(Array(packet.dropLast(2))) == .malformed(error))
    }
}

extension String {
    /// Pads a one-digit hex string to two digits.
    var leftPadded: String { count == 1 ? "0" + self : self }
}

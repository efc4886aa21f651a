import MQTTCodec
import NIOCore
import Testing

@Suite("Partial and over-long buffers")
struct TruncationTests {
    static let cases = Samples.all.map { ($0.0, encode($0.1)) }

    @Test("every strict prefix needs more bytes", arguments: cases)
    func everyPrefixNeedsMoreBytes(name: String, packet: [UInt8]) {
        for length in 0..<packet.count {
            let prefix = Array(packet[..<length])
            #expect(decode(prefix) == .needMoreBytes, "\(name): prefix of \(length) of \(packet.count) bytes")
        }
    }

    @Test("the whole packet is complete with the exact byte count", arguments: cases)
    func wholePacketIsComplete(name: String, packet: [UInt8]) throws {
        let decoded = try #require(completePacket(decode(packet)), "\(name)")
        #expect(decoded.byteCount == packet.count)
    }

    @Test("bytes of the next packet do not change the result", arguments: cases)
    func followingBytesAreIgnored(name: String, packet: [UInt8]) {
        let alone = decode(packet)
        let pingreq: [UInt8] = [0xC0, 0x00]
        let publish: [UInt8] = [0x30, 0x05, 0x00, 0x01, 0x74, 0x68, 0x69]
        #expect(decode(packet + pingreq) == alone)
        #expect(decode(packet + publish) == alone)
        #expect(decode(packet + [0xFF]) == alone)
    }

    @Test("decoding honours the reader index and does not move it", arguments: cases)
    func readerIndexIsRespected(name: String, packet: [UInt8]) {
        var buffer = ByteBuffer(bytes: [0xAA, 0xBB, 0xCC] + packet)
        buffer.moveReaderIndex(forwardBy: 3)
        let before = buffer.readerIndex
        #expect(ConnectDecoder.decode(buffer) == decode(packet))
        #expect(buffer.readerIndex == before)
    }

    @Test("peekProtocol answers once the level byte is in", arguments: cases)
    func peekProtocol(name: String, packet: [UInt8]) throws {
        let decoded = try #require(completePacket(decode(packet)))
        let nameLength = decoded.protocolName.utf8.count
        let levelEnd = 1 + 1 + 2 + nameLength + 1
        for length in 0..<levelEnd {
            #expect(ConnectDecoder.peekProtocol(ByteBuffer(bytes: packet[..<length])) == .needMoreBytes)
        }
        let expected = ProtocolPeek.protocol(name: decoded.protocolName, level: decoded.protocolLevel)
        for length in levelEnd...packet.count {
            #expect(ConnectDecoder.peekProtocol(ByteBuffer(bytes: packet[..<length])) == expected)
        }
    }

    @Test("a 4-byte remaining length is read; the size limit applies to header plus remaining length")
    func fourByteRemainingLength() {
        let header: [UInt8] = [0x10, 0x80, 0x80, 0x80, 0x01]
        #expect(decode(header, maxPacketSize: 3_000_000) == .needMoreBytes)
        #expect(malformedReason(decode(header)) == "CONNECT of 2097157 bytes exceeds the limit of 16384")
        #expect(decode([0x10, 0xFF, 0xFF, 0xFF, 0x7F], maxPacketSize: .max) == .needMoreBytes)
        #expect(decode([0x10, 0x80, 0x80, 0x80], maxPacketSize: .max) == .needMoreBytes)
    }

    @Test("a CONNECT of more than 2 MiB decodes with a raised limit")
    func hugeConnectDecodes() throws {
        var packet = Samples.v5Properties
        let key = String(repeating: "k", count: 32_767)
        let pairs = 2_097_152 / (1 + 2 + 32_767 + 2 + 1) + 1
        packet.properties = Array(repeating: .userProperty(key, "v"), count: pairs)
        let wire = encode(packet)
        #expect(wire.count > 2_097_152)
        #expect(wire[1] & 0x80 != 0 && wire[2] & 0x80 != 0 && wire[3] & 0x80 != 0 && wire[4] & 0x80 == 0)
        let decoded = try #require(completePacket(decode(wire, maxPacketSize: 4_000_000)))
        #expect(decoded.byteCount == wire.count)
        #expect(decoded.properties.count == pairs)
        #expect(decode(Array(wire.dropLast()), maxPacketSize: 4_000_000) == .needMoreBytes)
        #expect(malformedReason(decode(wire))?.hasSuffix("exceeds the limit of 16384") == true)
    }
}

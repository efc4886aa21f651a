import MQTTCodec
import NIOCore
import Testing

/// The decoder keeps variable-length fields as validated slices of its input and builds values when they are
/// read; these tests pin down that this is invisible to users of `ConnectPacket`.
@Suite("Zero-copy CONNECT fields")
struct ZeroCopyTests {
    @Test("a decoded packet equals, and hashes like, the packet built from the same values",
          arguments: [Samples.v31, Samples.v311, Samples.v311Full, Samples.v5Properties, Samples.v5Full])
    func decodedEqualsBuilt(sample: ConnectPacket) throws {
        var built = sample
        let decoded = try #require(completePacket(decode(encode(sample))))
        built.byteCount = decoded.byteCount
        #expect(decoded == built)
        #expect(decoded.hashValue == built.hashValue)
        #expect(decoded.clientID == sample.clientID)
        #expect(decoded.username == sample.username)
        #expect(decoded.password == sample.password)
        #expect(decoded.will == sample.will)
        #expect(decoded.properties == sample.properties)
    }

    @Test("the client id bytes are the id's UTF-8, including multi-byte ids")
    func clientIDBytes() throws {
        let id = "ünïcode-客户端-\(String(repeating: "x", count: 40))"
        let decoded = try #require(completePacket(decode(encode(ConnectPacket(clientID: id)))))
        #expect(Array(decoded.clientIDBytes.readableBytesView) == Array(id.utf8))
        #expect(decoded.clientID == id)
    }

    @Test("a decoded packet outlives changes to the buffer it was decoded from")
    func independentOfInput() throws {
        var input = Samples.v5Full.encoded
        let decoded = try #require(completePacket(ConnectDecoder.decode(input)))
        input.clear()
        input.writeBytes([UInt8](repeating: 0xFF, count: 512))
        #expect(decoded.clientID == Samples.v5Full.clientID)
        #expect(decoded.will == Samples.v5Full.will)
        #expect(decoded.properties == Samples.v5Full.properties)
    }

    @Test("setting fields of a decoded packet replaces them, and the packet re-encodes with the new values")
    func settersOnDecoded() throws {
        var packet = try #require(completePacket(decode(encode(Samples.v5Full))))
        packet.clientID = "renamed-client-with-a-long-identifier"
        packet.username = nil
        packet.password = nil
        packet.properties = [.sessionExpiryInterval(7)]
        packet.will = Will(properties: [], topic: "t/2", payload: [1, 2, 3])
        let again = try #require(completePacket(decode(encode(packet))))
        #expect(again.clientID == "renamed-client-with-a-long-identifier")
        #expect(again.username == nil && again.password == nil)
        #expect(again.properties == [.sessionExpiryInterval(7)])
        #expect(again.will == Will(properties: [], topic: "t/2", payload: [1, 2, 3]))
    }

    @Test("strings inside properties are still validated without being built")
    func propertyStringsValidated() {
        let badValue = Raw.v5(properties: [0x26] + Raw.string("site") + [0x00, 0x02, 0xC3, 0x28])
        #expect(malformedReason(decode(badValue)) == "User Property (0x26) value is not valid UTF-8")
        let nullName = Raw.v5(properties: [0x15, 0x00, 0x02, 0x61, 0x00])
        #expect(malformedReason(decode(nullName)) == "Authentication Method (0x15) contains U+0000")
    }
}

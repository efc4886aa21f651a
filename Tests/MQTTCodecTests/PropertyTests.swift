import MQTTCodec
import NIOCore
import Testing

@Suite("MQTT 5 properties")
struct PropertyTests {
    static let sessionExpiry: [UInt8] = [0x11, 0x00, 0x00, 0x0E, 0x10]

    @Test("every CONNECT and will property decodes, in order")
    func allProperties() throws {
        let packet = try #require(completePacket(decode(encode(Samples.v5Full))))
        #expect(packet.will?.properties == Samples.v5Full.will?.properties)
        let withAuth = try #require(completePacket(decode(encode(Samples.v5Properties))))
        #expect(withAuth.properties == Samples.v5Properties.properties)
    }

    @Test("a repeated property other than User Property is malformed")
    func duplicates() {
        let twice = Raw.v5(properties: Self.sessionExpiry + Self.sessionExpiry)
        #expect(malformedReason(decode(twice)) == "Session Expiry Interval (0x11) appears twice in CONNECT properties")
        let pairAB = [0x26] + Raw.string("a") + Raw.string("b")
        let users = Raw.v5(properties: pairAB + [0x26] + Raw.string("a") + Raw.string("c"))
        #expect(completePacket(decode(users))?.properties == [.userProperty("a", "b"), .userProperty("a", "c")])
        let willDelay: [UInt8] = [0x18, 0, 0, 0, 1]
        let will = Raw.v5(flags: 0x06, properties: [], payload: Raw.string("id") + [10] + willDelay + willDelay
            + Raw.string("t") + Raw.string("p"))
        #expect(malformedReason(decode(will)) == "Will Delay Interval (0x18) appears twice in will properties")
    }

    @Test("unknown identifiers are malformed", arguments: [0x00, 0x05, 0x2B, 0x7F, 0x80, 0xFF] as [UInt8])
    func unknownIdentifier(id: UInt8) {
        let packet = Raw.v5(properties: [id, 0x00, 0x00, 0x00, 0x00])
        let hexID = String(id, radix: 16, uppercase: true).leftPadded
        #expect(malformedReason(decode(packet)) == "unknown property identifier 0x\(hexID) in CONNECT properties")
    }

    @Test("properties of other packets are refused where they do not belong")
    func misplaced() {
        let inConnect = Raw.v5(properties: [0x18, 0, 0, 0, 1])
        #expect(malformedReason(decode(inConnect)) == "Will Delay Interval (0x18) is not allowed in CONNECT properties")
        let assigned = Raw.v5(properties: [0x12] + Raw.string("x"))
        #expect(malformedReason(decode(assigned))
            == "Assigned Client Identifier (0x12) is not allowed in CONNECT properties")
        let inWill = Raw.v5(flags: 0x06, properties: [], payload: Raw.string("id") + [5] + Self.sessionExpiry
            + Raw.string("t") + Raw.string("p"))
        #expect(malformedReason(decode(inWill)) == "Session Expiry Interval (0x11) is not allowed in will properties")
    }

    @Test("property lengths must match their contents exactly")
    func lengthMismatch() {
        let tooLong = Raw.connect(Raw.string("MQTT") + [5, 0x02, 0x00, 0x3C, 0x20] + Self.sessionExpiry)
        #expect(malformedReason(decode(tooLong)) == "CONNECT properties (32 bytes) runs past the end of the packet")
        let straddling = Raw.connect(Raw.string("MQTT") + [5, 0x02, 0x00, 0x3C, 0x03] + Self.sessionExpiry
            + Raw.string("id"))
        #expect(malformedReason(decode(straddling))
            == "Session Expiry Interval (0x11) runs past the end of the CONNECT properties")
        let fiveByteLength = Raw.connect(Raw.string("MQTT") + [5, 0x02, 0x00, 0x3C, 0x80, 0x80, 0x80, 0x80, 0x00])
        #expect(malformedReason(decode(fiveByteLength)) == "CONNECT properties length longer than 4 bytes")
        let userPairCut = Raw.v5(properties: [0x26] + Raw.string("k") + [0x00])
        #expect(malformedReason(decode(userPairCut))
            == "User Property (0x26) value length runs past the end of the CONNECT properties")
    }

    @Test("values the spec calls a protocol error are malformed")
    func invalidValues() {
        let cases: [([UInt8], String)] = [
            ([0x21, 0x00, 0x00], "Receive Maximum (0x21) of 0 is a protocol error"),
            ([0x27, 0x00, 0x00, 0x00, 0x00], "Maximum Packet Size (0x27) of 0 is a protocol error"),
            ([0x17, 0x02], "Request Problem Information (0x17) of 2 is a protocol error (must be 0 or 1)"),
            ([0x19, 0xFF], "Request Response Information (0x19) of 255 is a protocol error (must be 0 or 1)"),
            ([0x16] + Raw.string([1]), "Authentication Data (0x16) without Authentication Method (0x15)"),
        ]
        for (properties, reason) in cases {
            #expect(malformedReason(decode(Raw.v5(properties: properties))) == reason)
        }
        let format = Raw.v5(flags: 0x06, properties: [], payload: Raw.string("id") + [2, 0x01, 0x02]
            + Raw.string("t") + Raw.string("p"))
        #expect(malformedReason(decode(format))
            == "Payload Format Indicator (0x01) of 2 is a protocol error (must be 0 or 1)")
    }

    @Test("a bad property is reported before the rest of the packet arrives")
    func earlyDetection() {
        let longID = Raw.string(String(repeating: "x", count: 100))
        let packet = Raw.v5(properties: Self.sessionExpiry + Self.sessionExpiry, payload: longID)
        let prefix = Array(packet.prefix(packet.count - 100))
        #expect(malformedReason(decode(prefix))?.contains("appears twice") == true)
    }

    @Test("property encoding is byte-exact")
    func encoding() {
        var buffer = ByteBuffer()
        MQTTProperty.write([.sessionExpiryInterval(3600), .userProperty("a", "b"), .receiveMaximum(5)], to: &buffer)
        #expect(Array(buffer.readableBytesView) == [0x0F, 0x11, 0x00, 0x00, 0x0E, 0x10,
                                                    0x26, 0x00, 0x01, 0x61, 0x00, 0x01, 0x62, 0x21, 0x00, 0x05])
        #expect(MQTTProperty.sessionExpiryInterval(3600).description == "Session Expiry Interval (0x11)=3600")
        #expect(MQTTProperty.Identifier(rawValue: 0x50).definition == nil)
    }
}

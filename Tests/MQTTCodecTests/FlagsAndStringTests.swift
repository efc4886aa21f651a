import MQTTCodec
import NIOCore
import Testing

@Suite("Connect flags and UTF-8 strings")
struct FlagsAndStringTests {
    struct FlagCase: Sendable, CustomTestStringConvertible {
        var flags: UInt8
        var level: UInt8
        var reason: String?
        var testDescription: String { "flags 0x\(String(flags, radix: 16)) level \(level)" }
    }

    static let flagCases: [FlagCase] = [
        FlagCase(flags: 0x03, level: 4, reason: "reserved connect flag (bit 0) is set"),
        FlagCase(flags: 0x01, level: 5, reason: "reserved connect flag (bit 0) is set"),
        FlagCase(flags: 0x1E, level: 4, reason: "will QoS 3 is invalid"),
        FlagCase(flags: 0x1E, level: 5, reason: "will QoS 3 is invalid"),
        FlagCase(flags: 0x0A, level: 4, reason: "will QoS or will retain set without the will flag"),
        FlagCase(flags: 0x12, level: 5, reason: "will QoS or will retain set without the will flag"),
        FlagCase(flags: 0x22, level: 3, reason: "will QoS or will retain set without the will flag"),
        FlagCase(flags: 0x42, level: 4, reason: "password flag set without the username flag"),
        FlagCase(flags: 0x42, level: 3, reason: "password flag set without the username flag"),
    ]

    @Test("inconsistent flags are malformed", arguments: flagCases)
    func inconsistentFlags(_ flagCase: FlagCase) {
        let name = flagCase.level == 3 ? "MQIsdp" : "MQTT"
        let head = Raw.string(name) + [flagCase.level, flagCase.flags]
        let packet = Raw.connect(head + [0x00, 0x3C] + [0x00, 0x00, 0x00, 0x00, 0x00, 0x00])
        let error = ConnectDecodeError(reason: flagCase.reason ?? "", protocolLevel: flagCase.level)
        let expected = ConnectDecodeResult.malformed(error)
        #expect(decode(packet) == expected)
        #expect(decode(Array(packet.prefix(2 + head.count))) == expected, "detected as soon as the flags arrive")
    }

    @Test("MQTT 5 allows a password without a username")
    func v5PasswordOnly() throws {
        let wire = Raw.v5(flags: 0x42, properties: [], payload: Raw.string("id") + Raw.string("pw"))
        let packet = try #require(completePacket(decode(wire)))
        #expect(packet.username == nil)
        #expect(packet.password == Array("pw".utf8))
        #expect(packet.flags == [.cleanStart, .password])
    }

    @Test("MQTT 3.1.1 rejects a password without a username")
    func v311PasswordOnly() {
        let packet = Raw.v311(flags: 0x42, payload: Raw.string("id") + Raw.string("pw"))
        #expect(malformedReason(decode(packet)) == "password flag set without the username flag")
    }

    @Test("will flags and fields are decoded")
    func willFields() throws {
        let payload = Raw.string("id") + Raw.string("t/1") + Raw.string([1, 2, 3])
            + Raw.string("user") + Raw.string("pw")
        let packet = try #require(completePacket(decode(Raw.v311(flags: 0xF6, payload: payload))))
        #expect(packet.flags.contains([.will, .willRetain, .username, .password, .cleanStart]))
        #expect(packet.flags.willQoS == 2)
        #expect(packet.will == Will(topic: "t/1", payload: [1, 2, 3]))
        #expect(packet.username == "user")
    }

    static let badStrings: [([UInt8], String)] = [
        ([0xC3, 0x28], "is not valid UTF-8"),
        ([0xC0, 0x80], "is not valid UTF-8"),
        ([0xE0, 0x80, 0x80], "is not valid UTF-8"),
        ([0xED, 0xA0, 0x80], "is not valid UTF-8"),
        ([0xED, 0xBF, 0xBF], "is not valid UTF-8"),
        ([0xF4, 0x90, 0x80, 0x80], "is not valid UTF-8"),
        ([0xF8, 0x88, 0x80, 0x80, 0x80], "is not valid UTF-8"),
        ([0x61, 0xE2, 0x82], "is not valid UTF-8"),
        ([0x80], "is not valid UTF-8"),
        ([0xFF], "is not valid UTF-8"),
        ([0x61, 0x00, 0x62], "contains U+0000"),
        ([0x00], "contains U+0000"),
    ]

    @Test("client ids must be MQTT UTF-8", arguments: badStrings)
    func badClientID(id: [UInt8], problem: String) {
        #expect(malformedReason(decode(Raw.v311(payload: Raw.string(id)))) == "client id \(problem)")
    }

    @Test("every UTF-8 field is checked", arguments: badStrings.prefix(1) + badStrings.suffix(1))
    func otherStrings(bad: [UInt8], problem: String) {
        let will = Raw.v311(flags: 0x06, payload: Raw.string("id") + Raw.string(bad) + Raw.string("x"))
        #expect(malformedReason(decode(will)) == "will topic \(problem)")
        let user = Raw.v311(flags: 0x82, payload: Raw.string("id") + Raw.string(bad))
        #expect(malformedReason(decode(user)) == "username \(problem)")
        let name = Raw.connect(Raw.string(bad) + [4, 0x02, 0x00, 0x3C] + Raw.string("id"))
        #expect(malformedReason(decode(name)) == "protocol name \(problem)")
        #expect(ConnectDecoder.peekProtocol(ByteBuffer(bytes: name))
            == .malformed(.init(reason: "protocol name \(problem)")))
        let property = Raw.v5(properties: [0x26] + Raw.string("k") + Raw.string(bad))
        #expect(malformedReason(decode(property)) == "User Property (0x26) value \(problem)")
    }

    @Test("binary fields need not be UTF-8")
    func binaryFields() throws {
        let payload = Raw.string("id") + Raw.string("t") + Raw.string([0xFF, 0x00])
            + Raw.string("u") + Raw.string([0xC0, 0x00])
        let packet = try #require(completePacket(decode(Raw.v311(flags: 0xC6, payload: payload))))
        #expect(packet.will?.payload == [0xFF, 0x00])
        #expect(packet.password == [0xC0, 0x00])
    }

    @Test("multi-byte UTF-8 client ids decode",
          arguments: ["Grüße", "日本語-id", "😀", "\u{10FFFF}", "\u{FEFF}x", ""])
    func multiByteClientID(id: String) throws {
        let packet = try #require(completePacket(decode(Raw.v311(payload: Raw.string(id)))))
        #expect(packet.clientID == id)
    }

    @Test("a length running past the packet is malformed")
    func lengthOverrun() {
        let packet = bytes(hex: "100f00044d5154540402003c0004666f6f")
        #expect(malformedReason(decode(packet)) == "client id (4 bytes) runs past the end of the packet")
        let will = Raw.v311(flags: 0x06, payload: Raw.string("id") + Raw.string("t") + [0x00, 0x05, 0x01])
        #expect(malformedReason(decode(will)) == "will payload (5 bytes) runs past the end of the packet")
        let password = Raw.v311(flags: 0xC2, payload: Raw.string("id") + Raw.string("u") + [0x00])
        #expect(malformedReason(decode(password)) == "password length runs past the end of the packet")
    }
}

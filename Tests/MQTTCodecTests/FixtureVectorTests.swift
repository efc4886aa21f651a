import Foundation
import MQTTCodec
import NIOCore
import Testing

/// One entry of `Fixtures/apisix-mqtt-connect.json` (APISIX's own mqtt-proxy test cases).
struct APISIXVector: Decodable, Sendable, CustomTestStringConvertible {
    var name: String
    var protocolName: String?
    var protocolLevel: UInt8?
    var hexInput: String
    var clientID: String?

    enum CodingKeys: String, CodingKey {
        case name
        case protocolName = "protocol_name"
        case protocolLevel = "protocol_level"
        case hexInput = "hex_input"
        case clientID = "client_id"
    }

    var testDescription: String { name }

    static func load() throws -> [APISIXVector] {
        struct File: Decodable {
            var vectors: [APISIXVector]
        }
        let url = try #require(
            Bundle.module.url(forResource: "apisix-mqtt-connect", withExtension: "json", subdirectory: "Fixtures")
        )
        return try JSONDecoder().decode(File.self, from: Data(contentsOf: url)).vectors
    }
}

@Suite("APISIX CONNECT vectors")
struct FixtureVectorTests {
    @Test("fixture file holds APISIX's 14 vectors")
    func vectorCount() throws {
        #expect(try APISIXVector.load().count == 14)
    }

    @Test(arguments: try APISIXVector.load())
    func vector(_ vector: APISIXVector) throws {
        let input = bytes(hex: vector.hexInput)
        let result = decode(input)
        guard let name = vector.protocolName, let level = vector.protocolLevel else {
            #expect(result == .needMoreBytes)
            #expect(ConnectDecoder.peekProtocol(ByteBuffer(bytes: input)) == .needMoreBytes)
            return
        }
        let packet = try #require(completePacket(result), "\(result)")
        #expect(packet.protocolName == name)
        #expect(packet.protocolLevel == level)
        #expect(packet.clientID == vector.clientID)
        #expect(packet.byteCount == input.count)
        #expect(ConnectDecoder.peekProtocol(ByteBuffer(bytes: input)) == .protocol(name: name, level: level))
    }

    @Test("TEST 13's Session Expiry Interval property is decoded")
    func sessionExpiryVector() throws {
        let wire = bytes(hex: "101b00044d5154540502003c051100000e100009636c696e742d313131")
        let packet = try #require(completePacket(decode(wire)))
        #expect(packet.properties == [.sessionExpiryInterval(3600)])
        #expect(packet.keepAlive == 60)
        #expect(packet.flags == [.cleanStart])
        #expect(packet.version == .v5)
    }
}

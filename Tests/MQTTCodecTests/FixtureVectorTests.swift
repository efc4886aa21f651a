import APISIXFixtures
import Foundation
import MQTTCodec
import NIOCore
import Testing

@Suite("APISIX CONNECT vectors")
struct FixtureVectorTests {
    @Test("fixture file holds APISIX's 14 vectors")
    func vectorCount() throws {
        #expect(try APISIXFixtures.connectVectors().count == 14)
    }

    @Test(arguments: try APISIXFixtures.connectVectors())
    func vector(_ vector: ConnectVector) throws {
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

import MQTTCodec
import NIOCore
import Testing

@Suite("CONNACK and DISCONNECT encodings")
struct ConnackTests {
    @Test("3.1.1 CONNACK return codes")
    func v3Connack() {
        #expect(ConnackEncoder.connack(returnCode: .unacceptableProtocolVersion) == [0x20, 0x02, 0x00, 0x01])
        #expect(ConnackEncoder.connack(returnCode: .identifierRejected) == [0x20, 0x02, 0x00, 0x02])
        #expect(ConnackEncoder.connack(returnCode: .serverUnavailable) == [0x20, 0x02, 0x00, 0x03])
        #expect(ConnackEncoder.connack(returnCode: .badUsernameOrPassword) == [0x20, 0x02, 0x00, 0x04])
        #expect(ConnackEncoder.connack(returnCode: .notAuthorized) == [0x20, 0x02, 0x00, 0x05])
        #expect(ConnackEncoder.connack(returnCode: .accepted, sessionPresent: true) == [0x20, 0x02, 0x01, 0x00])
        #expect(ConnackEncoder.connack(returnCode: .notAuthorized, sessionPresent: true) == [0x20, 0x02, 0x00, 0x05])
    }

    @Test("MQTT 5 CONNACK reason codes")
    func v5Connack() {
        #expect(ConnackEncoder.connack(reasonCode: .unsupportedProtocolVersion) == [0x20, 0x03, 0x00, 0x84, 0x00])
        #expect(ConnackEncoder.connack(reasonCode: .malformedPacket) == [0x20, 0x03, 0x00, 0x81, 0x00])
        #expect(ConnackEncoder.connack(reasonCode: .protocolError) == [0x20, 0x03, 0x00, 0x82, 0x00])
        #expect(ConnackEncoder.connack(reasonCode: .clientIdentifierNotValid) == [0x20, 0x03, 0x00, 0x85, 0x00])
        #expect(ConnackEncoder.connack(reasonCode: .success, sessionPresent: true) == [0x20, 0x03, 0x01, 0x00, 0x00])
        #expect(ConnackEncoder.connack(reasonCode: .success, properties: [.assignedClientIdentifier("a1")])
            == [0x20, 0x08, 0x00, 0x00, 0x05, 0x12, 0x00, 0x02, 0x61, 0x31])
    }

    @Test("version rejection follows the client's level")
    func rejectVersion() {
        #expect(ConnackEncoder.rejectVersion(forClientLevel: 5) == [0x20, 0x03, 0x00, 0x84, 0x00])
        #expect(ConnackEncoder.rejectVersion(forClientLevel: 4) == [0x20, 0x02, 0x00, 0x01])
        #expect(ConnackEncoder.rejectVersion(forClientLevel: 3) == [0x20, 0x02, 0x00, 0x01])
        #expect(ConnackEncoder.rejectVersion(forClientLevel: 7) == [0x20, 0x02, 0x00, 0x01])
        #expect(ConnackEncoder.reject(forClientLevel: 5, v3: .notAuthorized, v5: .notAuthorized)
            == [0x20, 0x03, 0x00, 0x87, 0x00])
        #expect(ConnackEncoder.reject(forClientLevel: 4, v3: .notAuthorized, v5: .notAuthorized)
            == [0x20, 0x02, 0x00, 0x05])
    }

    @Test("successful CONNACKs")
    func accept() {
        #expect(ConnackEncoder.accept(protocolLevel: 4) == [0x20, 0x02, 0x00, 0x00])
        #expect(ConnackEncoder.accept(protocolLevel: 3, sessionPresent: true) == [0x20, 0x02, 0x01, 0x00])
        #expect(ConnackEncoder.accept(protocolLevel: 5) == [0x20, 0x03, 0x00, 0x00, 0x00])
        #expect(ConnackEncoder.accept(protocolLevel: 5, sessionPresent: true) == [0x20, 0x03, 0x01, 0x00, 0x00])
    }

    @Test("DISCONNECT")
    func disconnect() {
        #expect(DisconnectEncoder.v3 == [0xE0, 0x00])
        #expect(DisconnectEncoder.v5() == [0xE0, 0x00])
        #expect(DisconnectEncoder.v5(reasonCode: .serverShuttingDown) == [0xE0, 0x02, 0x8B, 0x00])
        #expect(DisconnectEncoder.v5(reasonCode: .sessionTakenOver, properties: [.reasonString("x")])
            == [0xE0, 0x06, 0x8E, 0x04, 0x1F, 0x00, 0x01, 0x78])
        #expect(DisconnectEncoder.disconnect(protocolLevel: 4, reasonCode: .serverShuttingDown) == [0xE0, 0x00])
        #expect(DisconnectEncoder.disconnect(protocolLevel: 5, reasonCode: .keepAliveTimeout)
            == [0xE0, 0x02, 0x8D, 0x00])
    }
}

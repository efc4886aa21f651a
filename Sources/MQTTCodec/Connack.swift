import NIOCore

/// Builds CONNACK packets in the format of the client's protocol level.
public enum ConnackEncoder {
    /// MQTT 3.1/3.1.1 CONNACK: `0x20 0x02 <session present> <return code>`.
    public static func connack(returnCode: ConnectReturnCode, sessionPresent: Bool = false) -> [UInt8] {
        [0x20, 0x02, sessionPresent && returnCode == .accepted ? 0x01 : 0x00, returnCode.rawValue]
    }

    /// MQTT 5 CONNACK: `0x20 <len> <session present> <reason code> <properties>`.
    ///
    /// Without properties this is `0x20 0x03 <session present> <reason> 0x00`.
    public static func connack(
        reasonCode: ReasonCode,
        sessionPresent: Bool = false,
        properties: [MQTTProperty] = []
    ) -> [UInt8] {
        var body = ByteBuffer()
        body.writeInteger(UInt8(sessionPresent && !reasonCode.isFailure ? 0x01 : 0x00))
        body.writeInteger(reasonCode.rawValue)
        MQTTProperty.write(properties, to: &body)
        return MQTTFrame(type: .connack, body: body).bytes
    }

    /// Answer to a CONNECT whose protocol level the route does not accept.
    ///
    /// Level 5 gets an MQTT 5 CONNACK with reason 0x84 (Unsupported Protocol Version); any other level gets
    /// a 3.1.1 CONNACK with return code 0x01 (unacceptable protocol version).
    public static func rejectVersion(forClientLevel level: UInt8) -> [UInt8] {
        level == 5
            ? connack(reasonCode: .unsupportedProtocolVersion)
            : connack(returnCode: .unacceptableProtocolVersion)
    }

    /// A refusal in the client's format: `v5` for level 5 clients, `v3` for everyone else.
    public static func reject(forClientLevel level: UInt8, v3: ConnectReturnCode, v5: ReasonCode) -> [UInt8] {
        level == 5 ? connack(reasonCode: v5) : connack(returnCode: v3)
    }

    /// A successful CONNACK in the client's format (MQTT 5 when `protocolLevel` is 5).
    public static func accept(
        protocolLevel: UInt8,
        sessionPresent: Bool = false,
        properties: [MQTTProperty] = []
    ) -> [UInt8] {
        protocolLevel == 5
            ? connack(reasonCode: .success, sessionPresent: sessionPresent, properties: properties)
            : connack(returnCode: .accepted, sessionPresent: sessionPresent)
    }
}

/// Builds DISCONNECT packets.
public enum DisconnectEncoder {
    /// MQTT 3.1/3.1.1 DISCONNECT: `0xE0 0x00`.
    public static let v3: [UInt8] = [0xE0, 0x00]

    /// MQTT 5 DISCONNECT; normal disconnection without properties is `0xE0 0x00`, otherwise
    /// `0xE0 <len> <reason> <properties>` (`0xE0 0x02 <reason> 0x00` without properties).
    public static func v5(reasonCode: ReasonCode = .normalDisconnection, properties: [MQTTProperty] = []) -> [UInt8] {
        if reasonCode == .normalDisconnection && properties.isEmpty {
            return [0xE0, 0x00]
        }
        var body = ByteBuffer()
        body.writeInteger(reasonCode.rawValue)
        MQTTProperty.write(properties, to: &body)
        return MQTTFrame(type: .disconnect, body: body).bytes
    }

    /// A DISCONNECT in the format of `protocolLevel` (the reason is sent only to MQTT 5 clients).
    public static func disconnect(protocolLevel: UInt8, reasonCode: ReasonCode = .normalDisconnection) -> [UInt8] {
        protocolLevel == 5 ? v5(reasonCode: reasonCode) : v3
    }
}

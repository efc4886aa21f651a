import NIOCore

/// The small fixed-shape packets: pings, acknowledgements, SUBACK and UNSUBACK.
public enum PacketEncoder {
    /// PINGREQ (`C0 00`).
    public static let pingreq: [UInt8] = [0xC0, 0x00]
    /// PINGRESP (`D0 00`).
    public static let pingresp: [UInt8] = [0xD0, 0x00]

    /// PUBACK, PUBREC, PUBREL or PUBCOMP with success: `<type> 0x02 <id>` (the MQTT 5 short form, valid in every
    /// version).
    public static func ack(_ type: MQTTPacketType, packetID: UInt16) -> [UInt8] {
        [type.rawValue << 4 | (type.requiredFlags ?? 0), 0x02, UInt8(packetID >> 8), UInt8(packetID & 0xFF)]
    }

    /// SUBACK with one return code per filter; MQTT 5 adds an empty property list.
    public static func suback(packetID: UInt16, codes: [UInt8], protocolLevel: UInt8) -> [UInt8] {
        var body = ByteBuffer()
        body.writeInteger(packetID)
        if protocolLevel == 5 { body.writeInteger(UInt8(0)) }
        body.writeBytes(codes)
        return MQTTFrame(type: .suback, body: body).bytes
    }

    /// UNSUBACK; MQTT 5 adds an empty property list and one reason code per filter.
    public static func unsuback(packetID: UInt16, codes: [UInt8], protocolLevel: UInt8) -> [UInt8] {
        var body = ByteBuffer()
        body.writeInteger(packetID)
        if protocolLevel == 5 {
            body.writeInteger(UInt8(0))
            body.writeBytes(codes)
        }
        return MQTTFrame(type: .unsuback, body: body).bytes
    }
}

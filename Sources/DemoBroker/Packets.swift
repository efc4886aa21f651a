import MQTTCodec
import NIOCore

/// A PUBLISH as a client sent it.
struct PublishPacket: Sendable {
    var topic: String
    var qos: UInt8
    var retain: Bool
    var duplicate: Bool
    /// Present exactly when `qos > 0`.
    var packetID: UInt16?
    /// MQTT 5 properties worth forwarding (never a topic alias or a subscription identifier).
    var properties: [MQTTProperty]
    var payload: ByteBuffer

    /// Property identifiers a client may put in a PUBLISH (MQTT 5 §3.3.2.3).
    static let allowedProperties: Set<UInt8> = [0x01, 0x02, 0x03, 0x08, 0x09, 0x23, 0x26]

    /// Decodes a PUBLISH frame from a client speaking `protocolLevel`.
    static func decode(_ frame: MQTTFrame, protocolLevel: UInt8) throws(ProtocolViolation) -> PublishPacket {
        var reader = PacketReader(frame)
        let qos = (frame.flags >> 1) & 0x03
        let topic = try reader.readString("topic name")
        guard TopicFilter.isValidTopicName(topic) else { throw .invalidTopicName(topic) }
        let packetID = qos > 0 ? try reader.readPacketID() : nil
        var properties: [MQTTProperty] = []
        if protocolLevel == 5 {
            properties = try reader.readProperties(allowed: allowedProperties)
            if properties.contains(where: { $0.identifier == .topicAlias }) { throw .topicAlias }
        }
        return PublishPacket(
            topic: topic, qos: qos, retain: frame.flags & 0x01 != 0, duplicate: frame.flags & 0x08 != 0,
            packetID: packetID, properties: properties, payload: reader.readRest()
        )
    }
}

/// What a subscriber asked for one topic filter.
struct SubscriptionOptions: Sendable, Hashable {
    /// The maximum QoS requested (0, 1 or 2); the broker grants at most 1.
    var qos: UInt8
    /// MQTT 5: do not send the subscriber its own messages.
    var noLocal = false
    /// MQTT 5: keep the RETAIN flag of live messages instead of clearing it.
    var retainAsPublished = false
    /// MQTT 5: 0 send retained messages, 1 only for a new subscription, 2 never.
    var retainHandling: UInt8 = 0

    /// Decodes a subscription options byte (MQTT 3.1.1 §3.8.3.1, MQTT 5 §3.8.3.1).
    init(byte: UInt8, protocolLevel: UInt8) throws(ProtocolViolation) {
        let reserved: UInt8 = protocolLevel == 5 ? 0xC0 : 0xFC
        guard byte & reserved == 0, byte & 0x03 != 0x03, (byte >> 4) & 0x03 != 0x03 else {
            throw .invalidSubscriptionOptions(byte)
        }
        qos = byte & 0x03
        if protocolLevel == 5 {
            noLocal = byte & 0x04 != 0
            retainAsPublished = byte & 0x08 != 0
            retainHandling = (byte >> 4) & 0x03
        }
    }

    init(qos: UInt8) {
        self.qos = qos
    }
}

/// A SUBSCRIBE: its packet identifier and the requested filters in order.
struct SubscribePacket: Sendable {
    var packetID: UInt16
    var requests: [(filter: String, options: SubscriptionOptions)]

    /// Decodes a SUBSCRIBE frame; MQTT 5 properties (subscription identifier, user properties) are ignored.
    static func decode(_ frame: MQTTFrame, protocolLevel: UInt8) throws(ProtocolViolation) -> SubscribePacket {
        var reader = PacketReader(frame)
        let packetID = try reader.readPacketID()
        if protocolLevel == 5 {
            _ = try reader.readProperties(allowed: [0x0B, 0x26])
        }
        var requests: [(filter: String, options: SubscriptionOptions)] = []
        while reader.remaining > 0 {
            let filter = try reader.readString("topic filter")
            let options = try SubscriptionOptions(byte: try reader.readUInt8("subscription options"),
                                                  protocolLevel: protocolLevel)
            requests.append((filter, options))
        }
        if requests.isEmpty { throw .noTopicFilters(.subscribe) }
        return SubscribePacket(packetID: packetID, requests: requests)
    }
}

/// An UNSUBSCRIBE: its packet identifier and the filters to drop.
struct UnsubscribePacket: Sendable {
    var packetID: UInt16
    var filters: [String]

    /// Decodes an UNSUBSCRIBE frame; MQTT 5 user properties are ignored.
    static func decode(_ frame: MQTTFrame, protocolLevel: UInt8) throws(ProtocolViolation) -> UnsubscribePacket {
        var reader = PacketReader(frame)
        let packetID = try reader.readPacketID()
        if protocolLevel == 5 {
            _ = try reader.readProperties(allowed: [0x26])
        }
        var filters: [String] = []
        while reader.remaining > 0 {
            filters.append(try reader.readString("topic filter"))
        }
        if filters.isEmpty { throw .noTopicFilters(.unsubscribe) }
        return UnsubscribePacket(packetID: packetID, filters: filters)
    }
}

/// Builds the packets the broker sends.
enum PacketEncoder {
    /// PINGRESP.
    static let pingresp: [UInt8] = [0xD0, 0x00]

    /// PUBACK, PUBREC or PUBCOMP with success: `<type> 0x02 <id>` (the MQTT 5 short form, valid in every version).
    static func ack(_ type: MQTTPacketType, packetID: UInt16) -> [UInt8] {
        [type.rawValue << 4, 0x02, UInt8(packetID >> 8), UInt8(packetID & 0xFF)]
    }

    /// SUBACK with one return code per filter; MQTT 5 adds an empty property list.
    static func suback(packetID: UInt16, codes: [UInt8], protocolLevel: UInt8) -> [UInt8] {
        var body = ByteBuffer()
        body.writeInteger(packetID)
        if protocolLevel == 5 { body.writeInteger(UInt8(0)) }
        body.writeBytes(codes)
        return MQTTFrame(type: .suback, body: body).bytes
    }

    /// UNSUBACK; MQTT 5 adds an empty property list and one reason code per filter.
    static func unsuback(packetID: UInt16, codes: [UInt8], protocolLevel: UInt8) -> [UInt8] {
        var body = ByteBuffer()
        body.writeInteger(packetID)
        if protocolLevel == 5 {
            body.writeInteger(UInt8(0))
            body.writeBytes(codes)
        }
        return MQTTFrame(type: .unsuback, body: body).bytes
    }

    /// A PUBLISH to a client speaking `protocolLevel`; properties are sent to MQTT 5 clients only.
    static func publish(_ message: BrokerMessage, qos: UInt8, retain: Bool, packetID: UInt16?,
                        protocolLevel: UInt8) -> ByteBuffer
    {
        var body = ByteBuffer()
        body.reserveCapacity(message.topic.utf8.count + message.payload.readableBytes + 16)
        body.writeMQTTString(message.topic)
        if qos > 0, let packetID { body.writeInteger(packetID) }
        if protocolLevel == 5 { MQTTProperty.write(message.properties, to: &body) }
        body.writeImmutableBuffer(message.payload)
        let flags = qos << 1 | (retain ? 0x01 : 0x00)
        var out = ByteBuffer()
        MQTTFrame(type: .publish, flags: flags, body: body).write(to: &out)
        return out
    }
}

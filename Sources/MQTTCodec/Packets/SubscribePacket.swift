import NIOCore

/// What a subscriber asks for one topic filter (MQTT 3.1.1 §3.8.3.1, MQTT 5 §3.8.3.1).
public struct SubscriptionOptions: Sendable, Hashable {
    /// The maximum QoS requested (0, 1 or 2).
    public var qos: UInt8
    /// MQTT 5: do not send the subscriber its own messages.
    public var noLocal = false
    /// MQTT 5: keep the RETAIN flag of live messages instead of clearing it.
    public var retainAsPublished = false
    /// MQTT 5: 0 send retained messages, 1 only for a new subscription, 2 never.
    public var retainHandling: UInt8 = 0

    public init(qos: UInt8, noLocal: Bool = false, retainAsPublished: Bool = false, retainHandling: UInt8 = 0) {
        self.qos = qos
        self.noLocal = noLocal
        self.retainAsPublished = retainAsPublished
        self.retainHandling = retainHandling
    }

    /// Decodes a subscription options byte from a peer speaking `protocolLevel`.
    public init(byte: UInt8, protocolLevel: UInt8) throws(MQTTPacketError) {
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

    /// The options byte for a peer speaking `protocolLevel` (3.1.x carries the QoS only).
    public func byte(protocolLevel: UInt8) -> UInt8 {
        guard protocolLevel == 5 else { return qos & 0x03 }
        return qos & 0x03 | (noLocal ? 0x04 : 0) | (retainAsPublished ? 0x08 : 0) | (retainHandling & 0x03) << 4
    }
}

/// A SUBSCRIBE: its packet identifier and the requested filters in order.
public struct SubscribePacket: Sendable, Hashable {
    /// One requested filter.
    public struct Request: Sendable, Hashable {
        public var filter: String
        public var options: SubscriptionOptions

        public init(filter: String, options: SubscriptionOptions) {
            self.filter = filter
            self.options = options
        }
    }

    public var packetID: UInt16
    public var requests: [Request]

    public init(packetID: UInt16, requests: [Request]) {
        self.packetID = packetID
        self.requests = requests
    }

    /// Decodes a SUBSCRIBE frame; MQTT 5 properties (subscription identifier, user properties) are skipped.
    public static func decode(_ frame: MQTTFrame, protocolLevel: UInt8) throws(MQTTPacketError) -> SubscribePacket {
        var reader = MQTTPacketReader(frame)
        let packetID = try reader.readPacketID()
        if protocolLevel == 5 { _ = try reader.readProperties(allowed: [0x0B, 0x26]) }
        var requests: [Request] = []
        while reader.remaining > 0 {
            let filter = try reader.readString("topic filter")
            let options = try SubscriptionOptions(byte: try reader.readUInt8("subscription options"),
                                                  protocolLevel: protocolLevel)
            requests.append(Request(filter: filter, options: options))
        }
        if requests.isEmpty { throw .noTopicFilters(.subscribe) }
        return SubscribePacket(packetID: packetID, requests: requests)
    }

    /// The whole packet for a peer speaking `protocolLevel` (MQTT 5 with an empty property list).
    public func encoded(protocolLevel: UInt8) -> ByteBuffer {
        var body = ByteBuffer()
        body.writeInteger(packetID)
        if protocolLevel == 5 { body.writeInteger(UInt8(0)) }
        for request in requests {
            body.writeMQTTString(request.filter)
            body.writeInteger(request.options.byte(protocolLevel: protocolLevel))
        }
        var out = ByteBuffer()
        MQTTFrame(type: .subscribe, body: body).write(to: &out)
        return out
    }
}

/// An UNSUBSCRIBE: its packet identifier and the filters to drop.
public struct UnsubscribePacket: Sendable, Hashable {
    public var packetID: UInt16
    public var filters: [String]

    public init(packetID: UInt16, filters: [String]) {
        self.packetID = packetID
        self.filters = filters
    }

    /// Decodes an UNSUBSCRIBE frame; MQTT 5 user properties are skipped.
    public static func decode(_ frame: MQTTFrame, protocolLevel: UInt8) throws(MQTTPacketError) -> UnsubscribePacket {
        var reader = MQTTPacketReader(frame)
        let packetID = try reader.readPacketID()
        if protocolLevel == 5 { _ = try reader.readProperties(allowed: [0x26]) }
        var filters: [String] = []
        while reader.remaining > 0 {
            filters.append(try reader.readString("topic filter"))
        }
        if filters.isEmpty { throw .noTopicFilters(.unsubscribe) }
        return UnsubscribePacket(packetID: packetID, filters: filters)
    }

    /// The whole packet for a peer speaking `protocolLevel` (MQTT 5 with an empty property list).
    public func encoded(protocolLevel: UInt8) -> ByteBuffer {
        var body = ByteBuffer()
        body.writeInteger(packetID)
        if protocolLevel == 5 { body.writeInteger(UInt8(0)) }
        for filter in filters { body.writeMQTTString(filter) }
        var out = ByteBuffer()
        MQTTFrame(type: .unsubscribe, body: body).write(to: &out)
        return out
    }
}

import NIOCore

/// A PUBLISH (MQTT 3.1.1 §3.3, MQTT 5 §3.3): decoded from a frame, or built to be sent.
public struct PublishPacket: Sendable, Hashable {
    public var topic: String
    public var qos: UInt8
    public var retain: Bool
    public var duplicate: Bool
    /// Present exactly when `qos > 0`.
    public var packetID: UInt16?
    /// MQTT 5 properties (written to MQTT 5 peers only).
    public var properties: [MQTTProperty]
    public var payload: ByteBuffer

    public init(topic: String, payload: ByteBuffer, qos: UInt8 = 0, retain: Bool = false, duplicate: Bool = false,
                packetID: UInt16? = nil, properties: [MQTTProperty] = [])
    {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
        self.duplicate = duplicate
        self.packetID = packetID
        self.properties = properties
    }

    /// Property identifiers a client's PUBLISH may carry (MQTT 5 §3.3.2.3).
    public static let clientProperties: Set<UInt8> = [0x01, 0x02, 0x03, 0x08, 0x09, 0x23, 0x26]
    /// A server's PUBLISH may carry Subscription Identifiers as well.
    public static let serverProperties: Set<UInt8> = clientProperties.union([0x0B])

    /// The fixed-header flags: DUP, QoS and RETAIN.
    public var flags: UInt8 { (duplicate ? 0x08 : 0) | qos << 1 | (retain ? 0x01 : 0) }

    /// Decodes a PUBLISH frame from a peer speaking `protocolLevel`; `fromServer` when a broker sent it.
    public static func decode(_ frame: MQTTFrame, protocolLevel: UInt8, fromServer: Bool = false)
        throws(MQTTPacketError) -> PublishPacket
    {
        var reader = MQTTPacketReader(frame)
        let qos = (frame.flags >> 1) & 0x03
        let topic = try reader.readString("topic name")
        guard MQTTTopic.isValidName(topic) else { throw .invalidTopicName(topic) }
        let packetID = qos > 0 ? try reader.readPacketID() : nil
        let allowed = fromServer ? serverProperties : clientProperties
        let properties = protocolLevel == 5 ? try reader.readProperties(allowed: allowed) : []
        return PublishPacket(topic: topic, payload: reader.readRest(), qos: qos, retain: frame.flags & 0x01 != 0,
                             duplicate: frame.flags & 0x08 != 0, packetID: packetID, properties: properties)
    }

    /// Appends the whole packet (fixed header included) for a peer speaking `protocolLevel`.
    public func write(to out: inout ByteBuffer, protocolLevel: UInt8) {
        var body = ByteBuffer()
        body.reserveCapacity(topic.utf8.count + payload.readableBytes + 16)
        body.writeMQTTString(topic)
        if qos > 0, let packetID { body.writeInteger(packetID) }
        if protocolLevel == 5 { MQTTProperty.write(properties, to: &body) }
        body.writeImmutableBuffer(payload)
        MQTTFrame(type: .publish, flags: flags, body: body).write(to: &out)
    }

    /// The whole packet for a peer speaking `protocolLevel`.
    public func encoded(protocolLevel: UInt8) -> ByteBuffer {
        var out = ByteBuffer()
        write(to: &out, protocolLevel: protocolLevel)
        return out
    }
}

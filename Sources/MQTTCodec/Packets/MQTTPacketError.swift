/// Why the body of an MQTT packet (other than CONNECT) is not valid: what a receiver closes the connection for.
public enum MQTTPacketError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The body ends before one of its fields.
    case truncated(MQTTPacketType, field: String)
    /// The body has bytes left after its last field.
    case trailingBytes(MQTTPacketType, count: Int)
    /// A string field is not well-formed UTF-8 or contains U+0000.
    case invalidString(MQTTPacketType, field: String)
    /// A property is unknown, not allowed in this packet, or has a forbidden value.
    case invalidProperty(MQTTPacketType, String)
    /// A PUBLISH topic name is empty or contains `+`, `#` or U+0000.
    case invalidTopicName(String)
    /// A SUBSCRIBE or UNSUBSCRIBE lists no topic filter.
    case noTopicFilters(MQTTPacketType)
    /// A subscription options byte has reserved bits set or QoS / retain handling 3.
    case invalidSubscriptionOptions(UInt8)
    /// A packet that needs a packet identifier carries 0.
    case zeroPacketIdentifier(MQTTPacketType)

    /// E.g. `PUBLISH ends inside the topic name`.
    public var description: String {
        switch self {
        case .truncated(let type, let field): "\(type) ends inside the \(field)"
        case .trailingBytes(let type, let count): "\(count) unexpected bytes at the end of \(type)"
        case .invalidString(let type, let field): "\(type) \(field) is not valid MQTT UTF-8"
        case .invalidProperty(let type, let reason): "\(type) property: \(reason)"
        case .invalidTopicName(let topic): "PUBLISH topic name \"\(topic)\" is empty or contains a wildcard"
        case .noTopicFilters(let type): "\(type) lists no topic filter"
        case .invalidSubscriptionOptions(let byte): "subscription options byte 0x\(hex(byte)) is invalid"
        case .zeroPacketIdentifier(let type): "\(type) has packet identifier 0"
        }
    }

    /// The MQTT 5 DISCONNECT reason code a receiver sends before closing for this.
    public var reasonCode: ReasonCode {
        switch self {
        case .invalidTopicName: .topicNameInvalid
        case .zeroPacketIdentifier: .protocolError
        default: .malformedPacket
        }
    }
}

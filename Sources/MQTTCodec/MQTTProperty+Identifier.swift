extension MQTTProperty {
    /// An MQTT 5 property identifier (MQTT 5 §2.2.2.2, table 2-4).
    public struct Identifier: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        /// The identifier byte as it appears on the wire.
        public var rawValue: UInt8

        /// Wraps any identifier byte, known or not.
        public init(rawValue: UInt8) {
            self.rawValue = rawValue
        }

        public static let payloadFormatIndicator = Identifier(rawValue: 0x01)
        public static let messageExpiryInterval = Identifier(rawValue: 0x02)
        public static let contentType = Identifier(rawValue: 0x03)
        public static let responseTopic = Identifier(rawValue: 0x08)
        public static let correlationData = Identifier(rawValue: 0x09)
        public static let subscriptionIdentifier = Identifier(rawValue: 0x0B)
        public static let sessionExpiryInterval = Identifier(rawValue: 0x11)
        public static let assignedClientIdentifier = Identifier(rawValue: 0x12)
        public static let serverKeepAlive = Identifier(rawValue: 0x13)
        public static let authenticationMethod = Identifier(rawValue: 0x15)
        public static let authenticationData = Identifier(rawValue: 0x16)
        public static let requestProblemInformation = Identifier(rawValue: 0x17)
        public static let willDelayInterval = Identifier(rawValue: 0x18)
        public static let requestResponseInformation = Identifier(rawValue: 0x19)
        public static let responseInformation = Identifier(rawValue: 0x1A)
        public static let serverReference = Identifier(rawValue: 0x1C)
        public static let reasonString = Identifier(rawValue: 0x1F)
        public static let receiveMaximum = Identifier(rawValue: 0x21)
        public static let topicAliasMaximum = Identifier(rawValue: 0x22)
        public static let topicAlias = Identifier(rawValue: 0x23)
        public static let maximumQoS = Identifier(rawValue: 0x24)
        public static let retainAvailable = Identifier(rawValue: 0x25)
        public static let userProperty = Identifier(rawValue: 0x26)
        public static let maximumPacketSize = Identifier(rawValue: 0x27)
        public static let wildcardSubscriptionAvailable = Identifier(rawValue: 0x28)
        public static let subscriptionIdentifierAvailable = Identifier(rawValue: 0x29)
        public static let sharedSubscriptionAvailable = Identifier(rawValue: 0x2A)

        /// The spec's name and value kind, or nil for an identifier MQTT 5 does not define.
        public var definition: (name: String, kind: ValueKind)? {
            switch rawValue {
            case 0x01: ("Payload Format Indicator", .byte)
            case 0x02: ("Message Expiry Interval", .fourByteInteger)
            case 0x03: ("Content Type", .string)
            case 0x08: ("Response Topic", .string)
            case 0x09: ("Correlation Data", .binary)
            case 0x0B: ("Subscription Identifier", .variableByteInteger)
            case 0x11: ("Session Expiry Interval", .fourByteInteger)
            case 0x12: ("Assigned Client Identifier", .string)
            case 0x13: ("Server Keep Alive", .twoByteInteger)
            case 0x15: ("Authentication Method", .string)
            case 0x16: ("Authentication Data", .binary)
            case 0x17: ("Request Problem Information", .byte)
            case 0x18: ("Will Delay Interval", .fourByteInteger)
            case 0x19: ("Request Response Information", .byte)
            case 0x1A: ("Response Information", .string)
            case 0x1C: ("Server Reference", .string)
            case 0x1F: ("Reason String", .string)
            case 0x21: ("Receive Maximum", .twoByteInteger)
            case 0x22: ("Topic Alias Maximum", .twoByteInteger)
            case 0x23: ("Topic Alias", .twoByteInteger)
            case 0x24: ("Maximum QoS", .byte)
            case 0x25: ("Retain Available", .byte)
            case 0x26: ("User Property", .stringPair)
            case 0x27: ("Maximum Packet Size", .fourByteInteger)
            case 0x28: ("Wildcard Subscription Available", .byte)
            case 0x29: ("Subscription Identifier Available", .byte)
            case 0x2A: ("Shared Subscription Available", .byte)
            default: nil
            }
        }

        /// E.g. `Session Expiry Interval (0x11)`.
        public var description: String {
            "\(definition?.name ?? "unknown property") (0x\(hex(rawValue)))"
        }
    }
}

extension MQTTProperty {
    /// Session Expiry Interval (0x11) in seconds.
    public static func sessionExpiryInterval(_ seconds: UInt32) -> Self {
        .init(.sessionExpiryInterval, .fourByteInteger(seconds))
    }
    /// Receive Maximum (0x21).
    public static func receiveMaximum(_ count: UInt16) -> Self { .init(.receiveMaximum, .twoByteInteger(count)) }
    /// Maximum Packet Size (0x27) in bytes.
    public static func maximumPacketSize(_ bytes: UInt32) -> Self { .init(.maximumPacketSize, .fourByteInteger(bytes)) }
    /// Topic Alias Maximum (0x22).
    public static func topicAliasMaximum(_ count: UInt16) -> Self { .init(.topicAliasMaximum, .twoByteInteger(count)) }
    /// User Property (0x26): a name/value pair; may repeat.
    public static func userProperty(_ name: String, _ value: String) -> Self {
        .init(.userProperty, .stringPair(name, value))
    }
    /// Authentication Method (0x15).
    public static func authenticationMethod(_ method: String) -> Self { .init(.authenticationMethod, .string(method)) }
    /// Authentication Data (0x16).
    public static func authenticationData(_ bytes: [UInt8]) -> Self { .init(.authenticationData, .binary(bytes)) }
    /// Will Delay Interval (0x18) in seconds.
    public static func willDelayInterval(_ seconds: UInt32) -> Self {
        .init(.willDelayInterval, .fourByteInteger(seconds))
    }
    /// Payload Format Indicator (0x01): 0 unspecified bytes, 1 UTF-8.
    public static func payloadFormatIndicator(_ format: UInt8) -> Self { .init(.payloadFormatIndicator, .byte(format)) }
    /// Message Expiry Interval (0x02) in seconds.
    public static func messageExpiryInterval(_ seconds: UInt32) -> Self {
        .init(.messageExpiryInterval, .fourByteInteger(seconds))
    }
    /// Content Type (0x03).
    public static func contentType(_ type: String) -> Self { .init(.contentType, .string(type)) }
    /// Assigned Client Identifier (0x12), sent in CONNACK when the client sent an empty id.
    public static func assignedClientIdentifier(_ id: String) -> Self { .init(.assignedClientIdentifier, .string(id)) }
    /// Reason String (0x1F), a human-readable diagnostic.
    public static func reasonString(_ text: String) -> Self { .init(.reasonString, .string(text)) }
}

/// Two upper-case hex digits.
func hex(_ byte: UInt8) -> String {
    let digits = Array("0123456789ABCDEF")
    return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
}

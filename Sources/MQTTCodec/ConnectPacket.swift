import NIOCore

/// The connect flags byte of a CONNECT packet (MQTT 3.1.1 §3.1.2.3, MQTT 5 §3.1.2.3).
public struct ConnectFlags: OptionSet, Sendable, Hashable {
    /// The flags byte as it appears on the wire.
    public var rawValue: UInt8

    /// Wraps a flags byte.
    public init(rawValue: UInt8) {
        self.rawValue = rawValue
    }

    /// Bit 0, which must be zero.
    public static let reserved = ConnectFlags(rawValue: 0x01)
    /// Clean Session (3.1/3.1.1) or Clean Start (5).
    public static let cleanStart = ConnectFlags(rawValue: 0x02)
    /// A will message follows the client id.
    public static let will = ConnectFlags(rawValue: 0x04)
    /// The will message is retained.
    public static let willRetain = ConnectFlags(rawValue: 0x20)
    /// A password follows.
    public static let password = ConnectFlags(rawValue: 0x40)
    /// A user name follows.
    public static let username = ConnectFlags(rawValue: 0x80)

    /// The two-bit will QoS field (bits 3-4); valid values are 0, 1 and 2.
    public var willQoS: UInt8 {
        get { (rawValue >> 3) & 0x03 }
        set { rawValue = (rawValue & ~0x18) | ((newValue & 0x03) << 3) }
    }
}

/// The will message carried in a CONNECT payload.
public struct Will: Sendable, Hashable {
    /// MQTT 5 will properties, in wire order (always empty before MQTT 5).
    public var properties: [MQTTProperty]
    /// The topic the will is published to.
    public var topic: String
    /// The will message body.
    public var payload: [UInt8]

    /// Creates a will; QoS and retain live in `ConnectFlags`.
    public init(properties: [MQTTProperty] = [], topic: String, payload: [UInt8]) {
        self.properties = properties
        self.topic = topic
        self.payload = payload
    }
}

/// A decoded MQTT CONNECT packet (any of 3.1, 3.1.1, 5.0).
public struct ConnectPacket: Sendable, Hashable {
    /// "MQTT" for 3.1.1 and 5, "MQIsdp" for 3.1; any other name is passed through.
    public var protocolName: String
    /// 3 (3.1), 4 (3.1.1), 5 (5.0); other values are passed through.
    public var protocolLevel: UInt8
    /// The connect flags as sent.
    public var flags: ConnectFlags
    /// Keep-alive in seconds.
    public var keepAlive: UInt16
    /// MQTT 5 CONNECT properties, in wire order (always empty before MQTT 5).
    public var properties: [MQTTProperty]
    /// The client identifier; may be empty.
    public var clientID: String
    /// The will message, present exactly when `flags` contains `.will`.
    public var will: Will?
    /// The user name, present exactly when `flags` contains `.username`.
    public var username: String?
    /// The password, present exactly when `flags` contains `.password`.
    public var password: [UInt8]? {
        get { passwordBytes.map { Array($0.readableBytesView) } }
        set { passwordBytes = newValue.map { ByteBuffer(bytes: $0) } }
    }
    /// The password as a slice of the decoded input: decoding does not copy it (the proxy never reads it).
    public var passwordBytes: ByteBuffer?
    /// Size of the whole packet on the wire, fixed header included (0 for a packet built in code).
    public var byteCount: Int

    /// Creates a packet; the will, username and password flag bits are set from the optional fields.
    public init(
        protocolName: String = "MQTT",
        protocolLevel: UInt8 = 4,
        flags: ConnectFlags = [.cleanStart],
        keepAlive: UInt16 = 60,
        properties: [MQTTProperty] = [],
        clientID: String,
        will: Will? = nil,
        username: String? = nil,
        password: [UInt8]? = nil,
        byteCount: Int = 0
    ) {
        var flags = flags
        flags.remove([.will, .username, .password])
        if will != nil { flags.insert(.will) }
        if username != nil { flags.insert(.username) }
        if password != nil { flags.insert(.password) }
        self.init(protocolName: protocolName, protocolLevel: protocolLevel, flags: flags, keepAlive: keepAlive,
                  properties: properties, clientID: clientID, will: will, username: username,
                  passwordBytes: password.map { ByteBuffer(bytes: $0) }, byteCount: byteCount)
    }

    /// Creates a decoded packet whose password is a slice of the input.
    init(protocolName: String, protocolLevel: UInt8, flags: ConnectFlags, keepAlive: UInt16,
         properties: [MQTTProperty], clientID: String, will: Will?, username: String?, passwordBytes: ByteBuffer?,
         byteCount: Int = 0)
    {
        self.protocolName = protocolName
        self.protocolLevel = protocolLevel
        self.flags = flags
        self.keepAlive = keepAlive
        self.properties = properties
        self.clientID = clientID
        self.will = will
        self.username = username
        self.passwordBytes = passwordBytes
        self.byteCount = byteCount
    }

    /// True for protocol level 5, whose CONNECT carries properties.
    public var isMQTT5: Bool { protocolLevel == 5 }

    /// The well-known protocol version this name and level denote, if any.
    public var version: MQTTVersion? { MQTTVersion(protocolName: protocolName, level: protocolLevel) }
}

/// The three MQTT versions in use.
public enum MQTTVersion: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// MQTT 3.1: protocol name "MQIsdp", level 3.
    case v3_1 = 3
    /// MQTT 3.1.1: protocol name "MQTT", level 4.
    case v3_1_1 = 4
    /// MQTT 5.0: protocol name "MQTT", level 5.
    case v5 = 5

    /// Matches a protocol name/level pair to a known version.
    public init?(protocolName: String, level: UInt8) {
        switch (protocolName, level) {
        case ("MQIsdp", 3): self = .v3_1
        case ("MQTT", 4): self = .v3_1_1
        case ("MQTT", 5): self = .v5
        default: return nil
        }
    }

    /// The protocol name this version puts in CONNECT.
    public var protocolName: String { self == .v3_1 ? "MQIsdp" : "MQTT" }

    /// "3.1", "3.1.1" or "5.0".
    public var description: String {
        switch self {
        case .v3_1: "3.1"
        case .v3_1_1: "3.1.1"
        case .v5: "5.0"
        }
    }
}

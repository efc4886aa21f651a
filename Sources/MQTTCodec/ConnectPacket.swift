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
///
/// Decoding is zero-copy: the decoder validates every field (UTF-8, property identifiers and values, lengths)
/// and keeps the variable-length fields as slices of the input buffer. `clientID`, `username`, `will` and
/// `properties` are materialised when read, so a proxy that only needs the client id pays for that one string
/// and nothing else. Packets built in code store their fields encoded the same way. Equality and hashing are
/// by the decoded values, not by the bytes.
public struct ConnectPacket: Sendable {
    /// "MQTT" for 3.1.1 and 5, "MQIsdp" for 3.1; any other name is passed through.
    public var protocolName: String
    /// 3 (3.1), 4 (3.1.1), 5 (5.0); other values are passed through.
    public var protocolLevel: UInt8
    /// The connect flags as sent.
    public var flags: ConnectFlags
    /// Keep-alive in seconds.
    public var keepAlive: UInt16
    /// Size of the whole packet on the wire, fixed header included (0 for a packet built in code).
    public var byteCount: Int

    /// The CONNECT properties: the validated section of the input, or the values given in code.
    var propertyField: PropertiesField
    /// The client identifier's UTF-8 bytes, validated.
    public private(set) var clientIDBytes: ByteBuffer
    /// The will: its validated wire fields, or the value given in code; nil without a will.
    var willField: WillField?
    /// The user name's UTF-8 bytes, validated.
    var usernameBytes: ByteBuffer?
    /// The password as a slice of the decoded input (the proxy never reads it).
    public var passwordBytes: ByteBuffer?

    /// A property list kept as its validated wire bytes (section contents, no length) or as values.
    enum PropertiesField: Sendable {
        case wire(ByteBuffer)
        case values([MQTTProperty])

        func value(_ section: PropertySection) -> [MQTTProperty] {
            switch self {
            case .wire(let bytes): MQTTProperty.parseValidated(bytes, section)
            case .values(let list): list
            }
        }
    }

    /// A will's fields as they are on the wire (the property section without its length).
    struct WillBytes: Sendable {
        var properties: ByteBuffer
        var topic: ByteBuffer
        var payload: ByteBuffer
    }

    /// A will kept as its validated wire fields or as a value.
    enum WillField: Sendable {
        case wire(WillBytes)
        case value(Will)
    }

    /// MQTT 5 CONNECT properties, in wire order (always empty before MQTT 5).
    public var properties: [MQTTProperty] {
        get { propertyField.value(.connect) }
        set { propertyField = .values(newValue) }
    }

    /// The client identifier; may be empty.
    public var clientID: String {
        get { String(buffer: clientIDBytes) }
        set { clientIDBytes = ByteBuffer(string: newValue) }
    }

    /// The will message, present exactly when `flags` contains `.will`.
    public var will: Will? {
        get {
            switch willField {
            case nil: nil
            case .value(let will): will
            case .wire(let w):
                Will(properties: PropertiesField.wire(w.properties).value(.will), topic: String(buffer: w.topic),
                     payload: Array(w.payload.readableBytesView))
            }
        }
        set { willField = newValue.map { .value($0) } }
    }

    /// The user name, present exactly when `flags` contains `.username`.
    public var username: String? {
        get { usernameBytes.map { String(buffer: $0) } }
        set { usernameBytes = newValue.map { ByteBuffer(string: $0) } }
    }

    /// The password, present exactly when `flags` contains `.password`.
    public var password: [UInt8]? {
        get { passwordBytes.map { Array($0.readableBytesView) } }
        set { passwordBytes = newValue.map { ByteBuffer(bytes: $0) } }
    }

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
                  propertyField: .values(properties), clientIDBytes: ByteBuffer(string: clientID),
                  willField: will.map { .value($0) }, usernameBytes: username.map { ByteBuffer(string: $0) },
                  passwordBytes: password.map { ByteBuffer(bytes: $0) }, byteCount: byteCount)
    }

    /// Creates a decoded packet from validated slices of the input.
    init(protocolName: String, protocolLevel: UInt8, flags: ConnectFlags, keepAlive: UInt16,
         propertyField: PropertiesField, clientIDBytes: ByteBuffer, willField: WillField?, usernameBytes: ByteBuffer?,
         passwordBytes: ByteBuffer?, byteCount: Int = 0)
    {
        self.protocolName = protocolName
        self.protocolLevel = protocolLevel
        self.flags = flags
        self.keepAlive = keepAlive
        self.propertyField = propertyField
        self.clientIDBytes = clientIDBytes
        self.willField = willField
        self.usernameBytes = usernameBytes
        self.passwordBytes = passwordBytes
        self.byteCount = byteCount
    }

    /// True for protocol level 5, whose CONNECT carries properties.
    public var isMQTT5: Bool { protocolLevel == 5 }

    /// The well-known protocol version this name and level denote, if any.
    public var version: MQTTVersion? { MQTTVersion(protocolName: protocolName, level: protocolLevel) }
}

extension ConnectPacket: Hashable {
    public static func == (a: ConnectPacket, b: ConnectPacket) -> Bool {
        a.protocolName == b.protocolName && a.protocolLevel == b.protocolLevel && a.flags == b.flags
            && a.keepAlive == b.keepAlive && a.byteCount == b.byteCount && a.clientIDBytes == b.clientIDBytes
            && a.usernameBytes == b.usernameBytes && a.passwordBytes == b.passwordBytes
            && a.properties == b.properties && a.will == b.will
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(protocolName)
        hasher.combine(protocolLevel)
        hasher.combine(flags)
        hasher.combine(keepAlive)
        hasher.combine(byteCount)
        hasher.combine(clientIDBytes)
        hasher.combine(usernameBytes)
        hasher.combine(passwordBytes)
        hasher.combine(properties)
        hasher.combine(will)
    }
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

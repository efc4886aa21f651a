/// CONNACK return codes of MQTT 3.1 and 3.1.1 (MQTT 3.1.1 §3.2.2.3).
public enum ConnectReturnCode: UInt8, Sendable, Hashable, CaseIterable {
    /// Connection accepted.
    case accepted = 0x00
    /// The server does not support the requested protocol level.
    case unacceptableProtocolVersion = 0x01
    /// The client id is well-formed UTF-8 but not allowed by the server.
    case identifierRejected = 0x02
    /// The MQTT service is unavailable.
    case serverUnavailable = 0x03
    /// The user name or password is malformed.
    case badUsernameOrPassword = 0x04
    /// The client is not authorized to connect.
    case notAuthorized = 0x05
}

/// An MQTT 5 reason code (MQTT 5 §2.4); the same byte can mean different things in different packets.
public struct ReasonCode: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    /// The reason code byte.
    public var rawValue: UInt8

    /// Wraps any reason code byte.
    public init(rawValue: UInt8) {
        self.rawValue = rawValue
    }

    /// CONNACK: connection accepted.
    public static let success = ReasonCode(rawValue: 0x00)
    /// DISCONNECT: close normally, without the will.
    public static let normalDisconnection = ReasonCode(rawValue: 0x00)
    /// DISCONNECT: close and publish the will.
    public static let disconnectWithWillMessage = ReasonCode(rawValue: 0x04)
    public static let unspecifiedError = ReasonCode(rawValue: 0x80)
    public static let malformedPacket = ReasonCode(rawValue: 0x81)
    public static let protocolError = ReasonCode(rawValue: 0x82)
    public static let implementationSpecificError = ReasonCode(rawValue: 0x83)
    public static let unsupportedProtocolVersion = ReasonCode(rawValue: 0x84)
    public static let clientIdentifierNotValid = ReasonCode(rawValue: 0x85)
    public static let badUsernameOrPassword = ReasonCode(rawValue: 0x86)
    public static let notAuthorized = ReasonCode(rawValue: 0x87)
    public static let serverUnavailable = ReasonCode(rawValue: 0x88)
    public static let serverBusy = ReasonCode(rawValue: 0x89)
    public static let banned = ReasonCode(rawValue: 0x8A)
    public static let serverShuttingDown = ReasonCode(rawValue: 0x8B)
    public static let badAuthenticationMethod = ReasonCode(rawValue: 0x8C)
    public static let keepAliveTimeout = ReasonCode(rawValue: 0x8D)
    public static let sessionTakenOver = ReasonCode(rawValue: 0x8E)
    public static let topicNameInvalid = ReasonCode(rawValue: 0x90)
    public static let receiveMaximumExceeded = ReasonCode(rawValue: 0x93)
    public static let topicAliasInvalid = ReasonCode(rawValue: 0x94)
    public static let packetTooLarge = ReasonCode(rawValue: 0x95)
    public static let messageRateTooHigh = ReasonCode(rawValue: 0x96)
    public static let quotaExceeded = ReasonCode(rawValue: 0x97)
    public static let administrativeAction = ReasonCode(rawValue: 0x98)
    public static let payloadFormatInvalid = ReasonCode(rawValue: 0x99)
    public static let retainNotSupported = ReasonCode(rawValue: 0x9A)
    public static let qosNotSupported = ReasonCode(rawValue: 0x9B)
    public static let useAnotherServer = ReasonCode(rawValue: 0x9C)
    public static let serverMoved = ReasonCode(rawValue: 0x9D)
    public static let connectionRateExceeded = ReasonCode(rawValue: 0x9F)

    /// True for codes of 0x80 and above, which report a failure.
    public var isFailure: Bool { rawValue >= 0x80 }

    /// E.g. `0x84`.
    public var description: String { "0x\(hex(rawValue))" }
}

/// Words for the code of a CONNACK, for operators: `0x05 not authorized`, `0x87 not authorized`.
public enum ConnackText {
    /// The code with its meaning in the protocol version of `level` (5: MQTT 5 reason codes; else 3.1.x).
    public static func describe(_ code: UInt8, level: UInt8) -> String {
        "0x\(hex(code)) " + ((level == 5 ? v5Names[code] : v3Names[code]) ?? "unknown")
    }

    static let v3Names: [UInt8: String] = [
        0x00: "accepted", 0x01: "unacceptable protocol version", 0x02: "identifier rejected",
        0x03: "server unavailable", 0x04: "bad user name or password", 0x05: "not authorized",
    ]

    static let v5Names: [UInt8: String] = [
        0x00: "success", 0x80: "unspecified error", 0x81: "malformed packet", 0x82: "protocol error",
        0x83: "implementation specific error", 0x84: "unsupported protocol version", 0x85: "client identifier not valid",
        0x86: "bad user name or password", 0x87: "not authorized", 0x88: "server unavailable", 0x89: "server busy",
        0x8A: "banned", 0x8C: "bad authentication method", 0x90: "topic name invalid", 0x95: "packet too large",
        0x97: "quota exceeded", 0x99: "payload format invalid", 0x9A: "retain not supported",
        0x9B: "QoS not supported", 0x9C: "use another server", 0x9D: "server moved", 0x9F: "connection rate exceeded",
    ]
}

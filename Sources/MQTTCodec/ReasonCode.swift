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

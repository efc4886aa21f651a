/// Outcome of looking at the bytes a client sent first.
public enum ConnectDecodeResult: Sendable, Equatable {
    /// The bytes so far are a valid prefix of a CONNECT; more bytes may complete it.
    case needMoreBytes
    /// A whole, valid CONNECT is buffered.
    case complete(ConnectPacket)
    /// The bytes are definitely not a valid CONNECT, whatever follows.
    case malformed(ConnectDecodeError)
}

/// Why the first bytes of a connection are not a valid CONNECT.
public struct ConnectDecodeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Operator-readable reason, e.g. "first byte 0x30 is not CONNECT (0x10)".
    public var reason: String
    /// The protocol level byte, when it was read before the problem was found (to pick a CONNACK format).
    public var protocolLevel: UInt8?

    /// Creates an error.
    public init(reason: String, protocolLevel: UInt8? = nil) {
        self.reason = reason
        self.protocolLevel = protocolLevel
    }

    /// The reason, plus the protocol level when known.
    public var description: String {
        guard let protocolLevel else { return reason }
        return "\(reason) (protocol level \(protocolLevel))"
    }
}

/// Outcome of `ConnectDecoder.peekProtocol`: the protocol name and level, as soon as they are buffered.
public enum ProtocolPeek: Sendable, Equatable {
    /// The fixed header, protocol name or level byte is not complete yet.
    case needMoreBytes
    /// The bytes up to the level are not a valid CONNECT.
    case malformed(ConnectDecodeError)
    /// The protocol name and level the client announced.
    case `protocol`(name: String, level: UInt8)
}

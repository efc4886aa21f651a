import MQTTCodec

/// Why a demo broker could not do what was asked of it.
public enum DemoBrokerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Binding the listening socket failed (port taken, address not local...).
    case bindFailed(name: String, host: String, port: Int, reason: String)
    /// `revive()` after `stop()`: a stopped broker stays stopped.
    case stopped(name: String)
    /// `kill()` or `stop()` ran while `revive()` was still binding; the revived listener was closed again.
    case reviveInterrupted(name: String)

    /// Operator-readable text, e.g. `demo broker "b1" cannot listen on 127.0.0.1:1883: Address already in use`.
    public var description: String {
        switch self {
        case .bindFailed(let name, let host, let port, let reason):
            "demo broker \"\(name)\" cannot listen on \(host):\(port): \(reason)"
        case .stopped(let name):
            "demo broker \"\(name)\" was stopped and cannot be revived"
        case .reviveInterrupted(let name):
            "demo broker \"\(name)\" was killed or stopped while it was being revived"
        }
    }
}

/// Why a client connection is closed: what it sent breaks MQTT, or is more than a demo broker supports.
///
/// Each case knows the MQTT 5 reason code sent in the DISCONNECT that precedes the close for MQTT 5 clients.
enum ProtocolViolation: Error, Sendable, Equatable, CustomStringConvertible {
    /// The byte stream cannot be split into packets (reserved type, bad flags, oversized packet...).
    case framing(String)
    /// The CONNECT is not a valid CONNECT.
    case badConnect(String)
    /// A packet body is not valid MQTT (a field cut short, bad UTF-8, a bad property, a wildcard in a topic...).
    case packet(MQTTPacketError)
    /// A PUBLISH uses a topic alias although the broker allows none.
    case topicAlias
    /// The first packet is not a CONNECT.
    case notConnect(MQTTPacketType)
    /// A second CONNECT on the same connection.
    case secondConnect
    /// A packet only a server may send, or one this broker does not implement (AUTH).
    case unexpected(MQTTPacketType)

    /// E.g. `PUBLISH ends inside the topic name`.
    var description: String {
        switch self {
        case .framing(let reason): reason
        case .badConnect(let reason): "bad CONNECT: \(reason)"
        case .packet(let error): error.description
        case .topicAlias: "PUBLISH uses a topic alias, but the broker allows none (Topic Alias Maximum 0)"
        case .notConnect(let type): "first packet is \(type), not CONNECT"
        case .secondConnect: "second CONNECT on the same connection"
        case .unexpected(let type): "unexpected \(type) from a client"
        }
    }

    /// The MQTT 5 DISCONNECT reason code for this violation.
    var reasonCode: ReasonCode {
        switch self {
        case .packet(let error): error.reasonCode
        case .topicAlias: .topicAliasInvalid
        case .secondConnect, .unexpected, .notConnect: .protocolError
        default: .malformedPacket
        }
    }
}

/// Two hex digits, e.g. `0F`.
func hexByte(_ byte: UInt8) -> String {
    let digits = Array("0123456789ABCDEF")
    return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
}

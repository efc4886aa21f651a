import MQTTCodec
import NIOCore
import ProxyControl
#if canImport(Glibc)
import Glibc
#endif

/// State shared by the two halves of one relayed connection; both channels live on the same event loop,
/// so this is only ever touched from that loop.
final class RelayState {
    let live: LiveConnection
    let idleLimit: TimeAmount
    /// The client's MQTT protocol level; nil on routes without the mqtt-proxy plugin (plain TCP, no framing).
    let clientLevel: UInt8?
    var lastActivity = NIODeadline.now()
    /// What ended the relay first, and a detail for the log ("node drained", the error…).
    var end: (cause: DisconnectCause, detail: String?)?
    /// Position in its loop's `IdleWatch` (-1 when not watched) and what the watch calls when the relay idles.
    var watchIndex = -1
    var closeIdle: ((RelayState) -> Void)?
    /// When one side closed its half (sent FIN) while the other stays open; nil while both are open.
    var halfClosedSince: NIODeadline?
    /// How long a relay may stay half-closed: an MQTT peer that closed its half is gone, and a broker that never
    /// answers the FIN (frozen, overloaded) would otherwise hold the relay until the idle limit.
    var halfCloseLimit = TimeAmount.seconds(5)

    /// Whether the relay has been half-closed for longer than `halfCloseLimit`.
    func halfClosedTooLong(_ now: NIODeadline) -> Bool {
        halfClosedSince.map { now - $0 >= halfCloseLimit } ?? false
    }

    /// Set once the farewells of an ending are written.
    var endingFinished = false
    /// Told the code of the broker's CONNACK once it passes.
    var onConnack: ((UInt8) -> Void)?

    init(live: LiveConnection, idleLimit: TimeAmount, clientLevel: UInt8?) {
        self.live = live
        self.idleLimit = idleLimit
        self.clientLevel = clientLevel
    }

    /// How many of the two channels have closed.
    private var closedSides = 0

    /// One side's channel closed; true for the second, when the relay has ended.
    func sideClosed() -> Bool {
        closedSides += 1
        return closedSides == 2
    }

    func noteClose(_ cause: DisconnectCause, _ detail: String? = nil) {
        if end == nil { end = (cause, detail) }
    }

    /// The broker's CONNACK went by with this code.
    func connackSeen(_ code: UInt8) {
        onConnack?(code)
        onConnack = nil
    }
}

/// Asks a relay to end between two packets: sent down the client channel's pipeline as a user outbound event, from
/// any thread, to its client glue.
struct RelayEnding: Sendable {
    enum Cause: Sendable {
        /// The node is drained: MQTT 5 clients are told to use another server (0x9C).
        case evicted
        /// The proxy stops: MQTT 5 clients are told it is shutting down (0x8B).
        case shutdown
    }

    var cause: Cause
    /// Sent to MQTT 5 clients as the Server Reference property.
    var serverReference: String?

    /// The disconnect cause the registry counts, and its detail.
    var disconnect: (cause: DisconnectCause, detail: String) {
        switch cause {
        case .evicted: (.evicted, "node drained")
        case .shutdown: (.shutdown, "proxy shutting down")
        }
    }

    /// The DISCONNECT for an MQTT 5 client (none for 3.1.x, which has no server DISCONNECT) and the normal one for
    /// the broker, so that it does not publish the client's will.
    func farewells(clientLevel: UInt8?) -> (toClient: [UInt8]?, toBroker: [UInt8]?) {
        guard let clientLevel else { return (nil, nil) }
        guard clientLevel == 5 else { return (nil, DisconnectEncoder.v3) }
        let code: ReasonCode = cause == .evicted ? .useAnotherServer : .serverShuttingDown
        let properties = serverReference.map { [MQTTProperty(.serverReference, .string($0))] } ?? []
        return (DisconnectEncoder.v5(reasonCode: code, properties: properties), DisconnectEncoder.v5())
    }
}

extension RelayEnding.Cause: Equatable {}

extension DisconnectCause {
    /// The cause of a side's error: a reset or broken pipe is the peer's doing; anything else is an error.
    static func of(_ error: Error, client: Bool) -> DisconnectCause {
        if let io = error as? IOError, io.errnoCode == ECONNRESET || io.errnoCode == EPIPE {
            return client ? .clientReset : .brokerReset
        }
        return .error
    }
}

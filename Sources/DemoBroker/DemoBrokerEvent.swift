import NIOConcurrencyHelpers

/// Something that happened in a demo broker, for a live view or a test to follow.
public enum DemoBrokerEvent: Sendable, Hashable, CustomStringConvertible {
    /// A client's CONNECT was accepted (`clientID` is the assigned id when the client sent an empty one).
    case connected(clientID: String)
    /// A client's session ended; `reason` is e.g. "DISCONNECT", "connection closed", "keep-alive expired".
    case disconnected(clientID: String, reason: String)
    /// A client subscribed to these (valid) filters.
    case subscribed(clientID: String, filters: [String])
    /// A message was published to `topic` (by `clientID`, or as its will) and sent to `recipients` clients.
    case published(topic: String, clientID: String, recipients: Int)
    /// `kill()` closed the listener and every connection.
    case killed
    /// `revive()` listens again.
    case revived

    /// One line for a log, e.g. `connected sensor-1`.
    public var description: String {
        switch self {
        case .connected(let clientID): "connected \(clientID)"
        case .disconnected(let clientID, let reason): "disconnected \(clientID) (\(reason))"
        case .subscribed(let clientID, let filters): "\(clientID) subscribed to \(filters.joined(separator: ", "))"
        case .published(let topic, let clientID, let recipients): "\(clientID) published to \(topic) → \(recipients)"
        case .killed: "killed"
        case .revived: "revived"
        }
    }
}

/// Fans events out to every stream handed out by `stream()`; a stream that is not read keeps the newest 1,000.
final class EventHub: Sendable {
    private struct State {
        var lastKey = 0
        var continuations: [Int: AsyncStream<DemoBrokerEvent>.Continuation] = [:]
        var finished = false
    }

    private let state = NIOLockedValueBox(State())

    /// A new stream of the events from now on; it ends when the broker stops.
    func stream() -> AsyncStream<DemoBrokerEvent> {
        let (stream, continuation) = AsyncStream.makeStream(
            of: DemoBrokerEvent.self, bufferingPolicy: .bufferingNewest(1000))
        let key: Int? = state.withLockedValue { s in
            guard !s.finished else { return nil }
            s.lastKey += 1
            s.continuations[s.lastKey] = continuation
            return s.lastKey
        }
        guard let key else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLockedValue { $0.continuations.removeValue(forKey: key) }
        }
        return stream
    }

    /// Sends `event` to every open stream.
    func emit(_ event: DemoBrokerEvent) {
        for continuation in state.withLockedValue({ Array($0.continuations.values) }) {
            continuation.yield(event)
        }
    }

    /// Ends every stream; later streams end at once.
    func finish() {
        let continuations = state.withLockedValue { s in
            s.finished = true
            defer { s.continuations = [:] }
            return Array(s.continuations.values)
        }
        continuations.forEach { $0.finish() }
    }
}

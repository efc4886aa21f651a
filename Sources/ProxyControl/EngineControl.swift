import ProxyModel
import RouteStore

/// What a client of the proxy engine may see and do: the console, the admin API and the demo hold one of these,
/// never the engine itself, so a console can drive a remote instance through another implementation.
///
/// Reads are cheap and never block: `snapshotVersion` is a counter, `snapshot()` an immutable picture (a remote
/// implementation returns the latest one it received). Actions are `async` because they may cross a network.
public protocol EngineControl: Sendable {
    /// Changes whenever connections come or go or an event is recorded.
    var snapshotVersion: Int { get }

    /// The current picture of the engine.
    func snapshot() -> EngineSnapshot

    /// The picture without its connection list (`relayed` still counts them) and with only the events after
    /// `eventsAfter`: what a follower reads twice a second, so an engine makes it without touching every connection.
    func summary(eventsAfter: Int) -> EngineSnapshot

    /// The ids of the relayed connections, in no particular order.
    func connectionIDs() -> [UInt64]

    /// The relayed connections with these ids (those still open), by id.
    func connections(ids: Set<UInt64>) -> [ConnectionInfo]

    /// Waits until the snapshot version is no longer `version`, or `timeout` seconds passed; returns the version
    /// then (equal to `version` on timeout).
    func nextVersion(after version: Int, timeout: Double) async -> Int

    /// Closes one relayed connection (both sides); false when no live connection has that id.
    func disconnect(connectionID: UInt64) async -> Bool

    /// For every live chash-placed connection, where its key would go under `proposed`; applies nothing.
    func previewRebalance(proposed: ProxyResources) async -> RebalancePreview

    /// A change validated as `store` would validate it, with the live clients it would move; applies nothing. An
    /// engine in this process asks `store` and works the moves out itself (`ChangePreview.make`); a remote one asks
    /// each instance for a dry run, so the moves are those of the clients it relays.
    func previewChange(_ kind: ResourceKind, id: String?, body: JSONValue, store: any RouteStore) async
        throws(StoreError) -> ChangePreview

    /// Adds an operator's note to the event log (a demo step, a maintenance remark).
    func note(_ message: String, node: String?)

    /// Drains `node` (`ip:port`): new clients the ring gives it go to the next ring node; with `evictPerSecond`,
    /// existing clients are moved off at that rate (MQTT 5: DISCONNECT 0x9C use another server, with
    /// `serverReference` when given; 3.1.x: closed), the broker side getting a normal DISCONNECT so no will fires.
    /// Draining a drained node changes its drain. Throws when no route lists the node.
    func drain(node: String, evictPerSecond: Double?, serverReference: String?) async throws(ControlError) -> NodeHealth

    /// Ends the drain of `node`; false when it was not drained.
    func undrain(node: String) async -> Bool

    /// Where the chash-placed clients now on `node` would go if it were drained (the next ring node that is neither
    /// unhealthy nor drained); applies nothing.
    func previewDrain(node: String) async -> RebalancePreview

    /// Ends every relay as shutdown does (MQTT 5: DISCONNECT 0x8B server shutting down; 3.1.x: closed after what is
    /// in flight), at the configured rate; returns once none is left, or after `timeout` seconds with how many are.
    func endAllConnections(timeout: Double) async -> Int
}

extension EngineControl {
    public func summary(eventsAfter: Int) -> EngineSnapshot {
        var snap = snapshot()
        snap.connections = []
        snap.events.removeAll { $0.sequence <= eventsAfter }
        snap.lastEventSequence = max(snap.lastEventSequence, snapshot().lastEventSequence)
        return snap
    }

    public func connectionIDs() -> [UInt64] { snapshot().connections.map(\.id) }

    public func connections(ids: Set<UInt64>) -> [ConnectionInfo] {
        snapshot().connections.filter { ids.contains($0.id) }
    }

    public func previewChange(_ kind: ResourceKind, id: String?, body: JSONValue, store: any RouteStore) async
        throws(StoreError) -> ChangePreview
    {
        try await ChangePreview.make(kind, id: id, body: body, store: store, engine: self)
    }
}

/// Why the engine refused an operator's request.
public enum ControlError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No live route lists this node.
    case unknownNode(String)
    /// The request is not valid (a rate ≤ 0, a server reference too long).
    case invalid(String)
    /// The engine could not be reached (a remote instance).
    case unreachable(String)

    public var description: String {
        switch self {
        case .unknownNode(let node): "no stream route uses node \(node)"
        case .invalid(let message): message
        case .unreachable(let message): message
        }
    }
}

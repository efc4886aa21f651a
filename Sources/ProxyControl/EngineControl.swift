import ProxyModel

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

    /// Waits until the snapshot version is no longer `version`, or `timeout` seconds passed; returns the version
    /// then (equal to `version` on timeout).
    func nextVersion(after version: Int, timeout: Double) async -> Int

    /// Closes one relayed connection (both sides); false when no live connection has that id.
    func disconnect(connectionID: UInt64) async -> Bool

    /// For every live chash-placed connection, where its key would go under `proposed`; applies nothing.
    func previewRebalance(proposed: ProxyResources) async -> RebalancePreview

    /// Adds an operator's note to the event log (a demo step, a maintenance remark).
    func note(_ message: String, node: String?)
}

import Atomics
import ProxyControl

/// The engine as its clients (console, admin API, demo) see it.
extension ProxyEngine: EngineControl {
    public var snapshotVersion: Int { registry.currentVersion }

    public func snapshot() -> EngineSnapshot {
        var snapshot = registry.snapshot()
        snapshot.drainTimeout = settings.drainTimeout
        return snapshot
    }

    public func nextVersion(after version: Int, timeout: Double) async -> Int {
        await registry.nextVersion(after: version, timeout: timeout)
    }

    /// Closes one relayed connection (client and broker side) on an operator's request; the registry then
    /// records it as "disconnected by operator". Returns false when no live connection has that id.
    @discardableResult
    public func disconnect(connectionID: UInt64) -> Bool {
        guard let live = registry.liveConnection(connectionID), let channel = live.channel else { return false }
        live.closedByOperator.store(true, ordering: .relaxed)
        let who = live.info.clientID ?? live.info.remoteAddress
        logger.notice("closing connection \(connectionID) (\(who)) on operator request")
        channel.close(promise: nil)
        return true
    }

    public func note(_ message: String, node: String?) {
        registry.record(.note, node: node, message: message)
    }
}

import Atomics
import Foundation
import ProxyControl

/// The engine as its clients (console, admin API, demo) see it.
extension ProxyEngine: EngineControl {
    public var snapshotVersion: Int { registry.currentVersion }

    public func snapshot() -> EngineSnapshot { completed(registry.snapshot()) }

    public func summary(eventsAfter: Int) -> EngineSnapshot { completed(registry.summary(eventsAfter: eventsAfter)) }

    public func connectionIDs() -> [UInt64] { registry.connectionIDs() }

    public func connections(ids: Set<UInt64>) -> [ConnectionInfo] { registry.connections(ids: ids) }

    /// The registry's picture with what the engine itself knows: limits, health, the store's status.
    private func completed(_ picture: EngineSnapshot) -> EngineSnapshot {
        var snapshot = picture
        snapshot.drainTimeout = settings.drainTimeout
        snapshot.connectionLimit = admission.limit
        snapshot.descriptorLimit = budget.soft
        snapshot.health = health.nodes(active: registry.activeByNode())
        snapshot.store = storeStatus.withLockedValue { $0 }
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

extension ProxyEngine {
    public func drain(node: String, evictPerSecond: Double?, serverReference: String?) async throws(ControlError)
        -> NodeHealth
    {
        if let rate = evictPerSecond, !(rate > 0 && rate.isFinite) {
            throw .invalid("evict_per_second must be a number > 0 (leave it out to keep existing clients)")
        }
        if let reference = serverReference, reference.isEmpty || reference.utf8.count > 65_535 {
            throw .invalid("server_reference must be a non-empty string")
        }
        let info = DrainInfo(evictPerSecond: evictPerSecond, serverReference: serverReference,
                             since: Date().timeIntervalSince1970)
        guard health.startDrain(node, info) else { throw .unknownNode(node) }
        let rate = evictPerSecond.map { "moving \($0) client(s)/s" } ?? "keeping its clients"
        logger.notice("draining \(node): new clients go elsewhere, \(rate)")
        registry.record(.health, node: node, message: "drain started: new clients go elsewhere, \(rate)")
        return snapshot().health.first { $0.node == node }
            ?? NodeHealth(node: node, checked: false, healthy: true, state: "unchecked", drain: info)
    }

    public func undrain(node: String) async -> Bool {
        guard health.stopDrain(node) else { return false }
        logger.notice("drain of \(node) ended")
        registry.record(.health, node: node, message: "drain ended: the node takes new clients again")
        return true
    }

    /// Stops for good: no new connections, every relay ended between packets (MQTT 5 clients hear 0x8B, brokers a
    /// normal DISCONNECT), done as soon as the last is gone; whatever is left after `drain_timeout` is cut.
    public func shutDown() async {
        let open = openConnections
        logger.notice("shutting down: no new connections; ending \(open) open connection(s)")
        await stopAccepting()
        let left = await endAllConnections(timeout: settings.drainTimeout)
        if left > 0 { logger.notice("\(left) connection(s) did not end within \(settings.drainTimeout) s; closing them") }
        await drain(timeout: 0)
        health.stop()
    }

    public func endAllConnections(timeout: Double) async -> Int {
        let ending = RelayEnding(cause: .shutdown, serverReference: settings.shutdownServerReference)
        shutdown.begin(ending)
        closePending()
        let relays = registry.allLiveConnections().sorted { $0.info.id < $1.info.id }
        let deadline = Date().addingTimeInterval(timeout)
        if let rate = settings.shutdownEvictPerSecond {
            for relay in relays where Date() < deadline {
                relay.end(ending)
                try? await Task.sleep(nanoseconds: UInt64(1e9 / rate))
            }
        } else {
            for relay in relays { relay.end(ending) }
        }
        var version = snapshotVersion
        while openConnections > 0 {
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { break }
            version = await nextVersion(after: version, timeout: min(left, 0.25))
        }
        return openConnections
    }
}

import Logging
import ProxyControl
import ProxyModel
import RouteStore
import ServiceLifecycle

/// Runs the engine as a service: applies store changes live, keeps the store in step with its source, refreshes
/// DNS, and on graceful shutdown stops accepting and ends every relay (see `ProxyEngine.shutDown`).
public final class EngineService: Service, Sendable {
    public let engine: ProxyEngine
    public let store: any RouteStore
    let listeners: [StreamListener]
    let logger: Logger
    /// The bound listener addresses (`ip:port`), set once the engine accepts connections.
    public let listening = ReadyValue<[String]>()

    public init(engine: ProxyEngine, store: any RouteStore, listeners: [StreamListener], logger: Logger)
    {
        self.engine = engine
        self.store = store
        self.listeners = listeners
        self.logger = logger
    }

    public func run() async throws {
        let engine = self.engine
        let store = self.store
        let changes = await store.changes()
        engine.storeStatusChanged(await store.status())
        await engine.apply(changes.initial)
        let bound = try await engine.start(listeners: listeners)
        let addresses = bound.map { HostPort.format(host: $0.ipAddress ?? "?", port: $0.port ?? 0) }
        logger.notice("ready: stream listeners \(addresses.joined(separator: ", ")); store \(store.location)")
        listening.set(addresses)

        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await event in changes.updates {
                    guard let snapshot = engine.recordStoreEvent(event) else { continue }
                    await engine.apply(snapshot)
                }
            }
            group.addTask { await store.run() }
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(nanoseconds: UInt64(engine.settings.dnsRefresh * 1e9))
                    if Task.isCancelled { break }
                    await engine.refreshDNS(await store.snapshot())
                }
            }
            try? await gracefulShutdown()
            await engine.shutDown()
            group.cancelAll()
        }
        logger.notice("engine stopped")
    }
}

extension ProxyEngine {
    /// Keeps the store's status for snapshots and `mqtt_proxy_config_source_up`.
    func storeStatusChanged(_ status: StoreStatus) {
        storeStatus.withLockedValue { $0 = status }
        registry.metrics.configSourceUp(provider: status.provider, status.reachable)
    }

    /// Notes a store event in the event log; returns the content to apply, if it brought new content.
    func recordStoreEvent(_ event: StoreEvent) -> StoreSnapshot? {
        switch event {
        case .changed(let snapshot, let kind, let id, let deleted):
            registry.record(.reload, routeID: kind == .streamRoutes ? id : nil,
                            message: "\(kind.noun) \(id) \(deleted ? "deleted" : "saved")")
            return snapshot
        case .reloaded(let snapshot):
            registry.record(.reload, message: "store file reloaded (version \(snapshot.revision))")
            return snapshot
        case .reloadRejected(let problems):
            let first = problems.first?.description ?? "invalid file"
            registry.record(.error, message: "store file rejected, previous routes stay live: \(first)")
            return nil
        case .statusChanged(let status):
            storeStatusChanged(status)
            if status.reachable {
                registry.record(.reload, message: "\(status.provider) reachable again at \(status.location)")
            } else {
                registry.record(.error, message: "\(status.provider) unreachable (\(status.lastError ?? "?")); "
                                + "routing goes on with the last good configuration")
            }
            return nil
        }
    }
}

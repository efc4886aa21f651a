import Logging
import ProxyModel
import RouteStore
import ServiceLifecycle

/// Runs the engine as a service: applies store changes live, watches the store file, refreshes DNS, and on
/// graceful shutdown stops accepting and lets open relays finish for up to the drain timeout.
public final class EngineService: Service, Sendable {
    public let engine: ProxyEngine
    public let store: FileStore
    let listeners: [StreamListener]
    let logger: Logger
    private let ready: (@Sendable ([String]) -> Void)?

    /// `ready` is called with the bound listener addresses once the engine accepts connections.
    public init(engine: ProxyEngine, store: FileStore, listeners: [StreamListener], logger: Logger,
                ready: (@Sendable ([String]) -> Void)? = nil)
    {
        self.engine = engine
        self.store = store
        self.listeners = listeners
        self.logger = logger
        self.ready = ready
    }

    public func run() async throws {
        let engine = self.engine
        let store = self.store
        let (updates, continuation) = AsyncStream<StoreSnapshot>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let token = await store.subscribe { event in
            switch event {
            case .changed(let snapshot, let kind, let id, let deleted):
                engine.registry.record(.reload, routeID: kind == .streamRoutes ? id : nil,
                                       message: "\(kind.noun) \(id) \(deleted ? "deleted" : "saved")")
                continuation.yield(snapshot)
            case .reloaded(let snapshot):
                engine.registry.record(.reload, message: "store file reloaded (version \(snapshot.version))")
                continuation.yield(snapshot)
            case .reloadRejected(let problems):
                let first = problems.first?.description ?? "invalid file"
                engine.registry.record(.error, message: "store file rejected, previous routes stay live: \(first)")
            }
        }
        await engine.apply(await store.snapshot())
        let bound = try await engine.start(listeners: listeners)
        ready?(bound.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" })

        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await snapshot in updates { await engine.apply(snapshot) }
            }
            group.addTask {
                await store.watch(every: engine.settings.storeWatchInterval)
            }
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(nanoseconds: UInt64(engine.settings.dnsRefresh * 1e9))
                    if Task.isCancelled { break }
                    await engine.refreshDNS(await store.snapshot())
                }
            }
            try? await gracefulShutdown()
            logger.notice("shutting down: no new connections; draining \(engine.openConnections) open")
            await engine.stopAccepting()
            await engine.drain(timeout: engine.settings.drainTimeout)
            continuation.finish()
            group.cancelAll()
        }
        await store.unsubscribe(token)
        logger.notice("engine stopped")
    }
}

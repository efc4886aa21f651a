import Hummingbird
import Logging
import NIOCore
import Metrics
import Prometheus
import ProxyControl
import ProxyModel
import RouteStore
import ServiceLifecycle
#if canImport(Glibc)
import Glibc
#endif

/// Everything the admin server needs.
public struct AdminSettings: Sendable {
    public var admin: AdminConfig
    public var proxyMode: ProxyMode
    /// Largest request body accepted, in bytes (413 above).
    public var bodyLimit: Int
    /// This instance's `instance_id`, shown by `/v1/summary` (an attached console names the instance by it).
    public var instanceID: String?

    public init(admin: AdminConfig, proxyMode: ProxyMode = .httpAndStream, bodyLimit: Int = 1024 * 1024,
                instanceID: String? = nil)
    {
        self.instanceID = instanceID
        self.admin = admin
        self.proxyMode = proxyMode
        self.bodyLimit = bodyLimit
    }
}

/// The admin API: APISIX-compatible object management, live status, and Prometheus metrics.
public enum AdminServer {
    /// The router with every admin route; used by the server and by in-process tests.
    public static func router(settings: AdminSettings, store: any RouteStore, engine: (any EngineControl)?,
                              metrics: PrometheusCollectorRegistry?) -> Router<AdminContext>
    {
        let router = Router(context: AdminContext.self)
        router.middlewares.add(AdminAuthMiddleware(config: settings.admin))
        ResourceRoutes(store: store, engine: engine, proxyMode: settings.proxyMode, bodyLimit: settings.bodyLimit)
            .register(on: router)
        StoreRoutes(store: store).register(on: router)
        if let engine {
            StatusRoutes(engine: engine, store: store, instanceID: settings.instanceID).register(on: router)
            StreamRoute(engine: engine).register(on: router)
            NodeRoutes(engine: engine).register(on: router)
        }
        if let metrics {
            router.get("/metrics") { _, _ in
                Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                         body: .init(byteBuffer: ByteBuffer(bytes: metrics.emitToBuffer())))
            }
        }
        return router
    }

    /// Makes Prometheus the process's metrics system; returns the registry `/metrics` shows and its factory.
    public static func bootstrapMetrics() -> (PrometheusCollectorRegistry, PrometheusMetricsFactory) {
        let registry = PrometheusCollectorRegistry()
        let factory = PrometheusMetricsFactory(registry: registry)
        MetricsSystem.bootstrap(factory)
        return (registry, factory)
    }

    /// The HTTP server as a service for the ServiceGroup; `listening` gets the bound `ip:port`. With
    /// `fallbackToAnyPort`, a listen port already taken is replaced by a free one (the demo's "9180 if free").
    public static func service(settings: AdminSettings, store: any RouteStore, engine: (any EngineControl)?,
                               metrics: PrometheusCollectorRegistry?, logger: Logger, fallbackToAnyPort: Bool = false,
                               listening: ReadyValue<String>) -> any Service
    {
        let router = router(settings: settings, store: store, engine: engine, metrics: metrics)
        return AdminService(host: settings.admin.listenHost, port: settings.admin.listenPort,
                            fallbackToAnyPort: fallbackToAnyPort, logger: logger, responder: router.buildResponder()) {
            address in
            let text = HostPort.format(host: address?.ipAddress ?? "?", port: address?.port ?? 0)
            logger.notice("admin API on \(text)")
            listening.set(text)
        }
    }
}

/// Runs the admin API's HTTP server; binds port 0 instead when asked to and the configured port is taken.
struct AdminService<Responder: HTTPResponder>: Service where Responder.Context == AdminContext {
    let host: String
    let port: Int
    let fallbackToAnyPort: Bool
    let logger: Logger
    let responder: Responder
    let onRunning: @Sendable (SocketAddress?) async -> Void

    func run() async throws {
        do {
            try await application(port: port).run()
        } catch let error as IOError where error.errnoCode == EADDRINUSE && fallbackToAnyPort && port != 0 {
            logger.notice("admin API: \(host):\(port) is taken; listening on a free port instead")
            try await application(port: 0).run()
        }
    }

    private func application(port: Int) -> some ApplicationProtocol {
        let onRunning = self.onRunning
        return Application(
            responder: responder,
            configuration: .init(address: .hostname(host, port: port), serverName: "mqtt-proxy"),
            onServerRunning: { channel in await onRunning(channel.localAddress) },
            logger: logger)
    }
}

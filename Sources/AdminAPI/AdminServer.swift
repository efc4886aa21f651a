import Hummingbird
import Logging
import NIOCore
import Prometheus
import ProxyEngine
import ProxyModel
import RouteStore

/// Everything the admin server needs.
public struct AdminSettings: Sendable {
    public var admin: AdminConfig
    public var proxyMode: ProxyMode
    /// Largest request body accepted, in bytes (413 above).
    public var bodyLimit: Int

    public init(admin: AdminConfig, proxyMode: ProxyMode = .httpAndStream, bodyLimit: Int = 1024 * 1024) {
        self.admin = admin
        self.proxyMode = proxyMode
        self.bodyLimit = bodyLimit
    }
}

/// The admin API: APISIX-compatible object management, live status, and Prometheus metrics.
public enum AdminServer {
    /// The router with every admin route; used by the server and by in-process tests.
    public static func router(settings: AdminSettings, store: FileStore, engine: ProxyEngine?,
                              metrics: PrometheusCollectorRegistry?) -> Router<AdminContext>
    {
        let router = Router(context: AdminContext.self)
        router.middlewares.add(AdminAuthMiddleware(config: settings.admin))
        ResourceRoutes(store: store, engine: engine, proxyMode: settings.proxyMode, bodyLimit: settings.bodyLimit)
            .register(on: router)
        if let engine { StatusRoutes(engine: engine).register(on: router) }
        if let metrics {
            router.get("/metrics") { _, _ in
                Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                         body: .init(byteBuffer: ByteBuffer(bytes: metrics.emitToBuffer())))
            }
        }
        return router
    }

    /// The HTTP server as a service for the ServiceGroup; `onRunning` gets the bound address.
    public static func application(settings: AdminSettings, store: FileStore, engine: ProxyEngine?,
                                   metrics: PrometheusCollectorRegistry?, logger: Logger,
                                   onRunning: @escaping @Sendable (SocketAddress?) async -> Void = { _ in })
        -> some ApplicationProtocol
    {
        let router = router(settings: settings, store: store, engine: engine, metrics: metrics)
        return Application(
            router: router,
            configuration: .init(address: .hostname(settings.admin.listenHost, port: settings.admin.listenPort),
                                 serverName: "mqtt-proxy"),
            onServerRunning: { channel in await onRunning(channel.localAddress) },
            logger: logger)
    }
}

import AdminAPI
import ArgumentParser
import Foundation
import Logging
import Metrics
import NIOCore
import NIOPosix
import Prometheus
import ProxyEngine
import ProxyModel
import RouteStore
import ServiceLifecycle

/// The engine, store and admin API that `serve` and `console` both run, wired the same way.
struct Runtime {
    let logger: Logger
    let store: FileStore
    let engine: ProxyEngine
    let group: MultiThreadedEventLoopGroup
    /// The admin API's bound address once it listens (`ip:port`).
    let adminAddress: AdminAddress
    private let engineService: EngineService
    private let admin: any Service

    /// Checks the admin key, sets up logging and metrics, loads the store (exiting 1 with every problem when
    /// it is invalid), and builds the engine and the admin API; nothing listens yet.
    static func prepare(_ resolved: ResolvedFiles, logLevel: String?, logFile: String?) async throws -> Runtime {
        let config = resolved.loaded.config
        if let problem = config.admin.publicKeyProblem {
            printError("error: \(resolved.configPath ?? "config"): refusing to start: \(problem)")
            throw ExitCode(1)
        }
        try LogSetup.bootstrap(level: logLevel ?? config.engine.logLevel, file: logFile)
        let logger = Logger(label: "mqtt-proxy")
        for warning in resolved.loaded.warnings { logger.warning("\(warning)") }
        if resolved.configPath == nil { logger.notice("no conf/config.yaml: using the built-in default config") }
        if let warning = config.admin.safetyWarning { logger.warning("admin API: \(warning)") }
        let prometheus = PrometheusCollectorRegistry()
        let metricsFactory = PrometheusMetricsFactory(registry: prometheus)
        MetricsSystem.bootstrap(metricsFactory)

        let store = FileStore(path: resolved.storePath, logger: Logger(label: "mqtt-proxy.store"))
        do {
            try await store.load()
        } catch {
            for problem in error.problems { printError("error: \(problem)") }
            throw ExitCode(1)
        }
        let listeners = config.proxyMode.streamEnabled ? config.listeners : []
        if listeners.isEmpty { logger.warning("no stream listener configured (apisix.stream_proxy.tcp)") }

        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let engine = ProxyEngine(settings: config.engine, group: group, logger: logger,
                                 metrics: EngineMetrics(factory: metricsFactory))
        let service = EngineService(engine: engine, store: store, listeners: listeners, logger: logger) { bound in
            logger.notice("ready: stream listeners \(bound.joined(separator: ", ")); store \(resolved.storePath)")
        }
        let adminAddress = AdminAddress()
        let admin = AdminServer.application(
            settings: AdminSettings(admin: config.admin, proxyMode: config.proxyMode,
                                   bodyLimit: config.admin.bodyLimit), store: store, engine: engine,
            metrics: prometheus, logger: Logger(label: "mqtt-proxy.admin")
        ) { address in
            let text = address.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? "?"
            adminAddress.set(text)
            logger.notice("admin API on \(text)")
        }
        return Runtime(logger: logger, store: store, engine: engine, group: group, adminAddress: adminAddress,
                       engineService: service, admin: admin)
    }

    /// Runs the engine, the admin API and `extra` services until one of them ends or SIGTERM/SIGINT; then
    /// stops them all gracefully (the last service listed stops first). Rethrows what made the group fail,
    /// after logging it.
    func run(adding extra: [any Service] = []) async throws {
        let services = ([engineService, admin] + extra).map {
            ServiceGroupConfiguration.ServiceConfiguration(
                service: $0, successTerminationBehavior: .gracefullyShutdownGroup,
                failureTerminationBehavior: .gracefullyShutdownGroup)
        }
        let serviceGroup = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await serviceGroup.run()
        } catch {
            logger.critical("stopped: \(error)")
            try? await group.shutdownGracefully()
            throw error
        }
        try? await group.shutdownGracefully()
    }
}

/// The admin API's address, set once it listens and read by the console's header from its own thread.
final class AdminAddress: @unchecked Sendable {
    // @unchecked: `value` is only touched while holding `lock`.
    private let lock = NSLock()
    private var value: String?

    func set(_ address: String) { lock.withLock { value = address } }
    var current: String? { lock.withLock { value } }
}

import AdminAPI
import ArgumentParser
import Foundation
import Logging
import Metrics
import Prometheus
import NIOCore
import NIOPosix
import ProxyEngine
import ProxyModel
import RouteStore
import ServiceLifecycle

/// `mqtt-proxy serve`: runs the engine headless until SIGTERM or SIGINT.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the proxy headless until SIGTERM/SIGINT (graceful drain on stop).")

    @OptionGroup var files: FileOptions

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String?

    @Option(name: .long, help: "Write logs to this file instead of standard error.")
    var logFile: String?

    func run() async throws {
        let resolved = try files.resolveOrExit()
        let config = resolved.loaded.config
        if let problem = config.admin.publicKeyProblem {
            printError("error: \(resolved.configPath ?? "config"): refusing to start: \(problem)")
            throw ExitCode(1)
        }
        try LogSetup.bootstrap(level: logLevel ?? config.engine.logLevel, file: logFile ?? config.engine.logFile)
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
        let admin = AdminServer.application(
            settings: AdminSettings(admin: config.admin, proxyMode: config.proxyMode,
                                   bodyLimit: config.admin.bodyLimit), store: store, engine: engine,
            metrics: prometheus, logger: Logger(label: "mqtt-proxy.admin")
        ) { address in
            logger.notice("admin API on \(address.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? "?")")
        }
        let serviceGroup = ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: service, successTerminationBehavior: .gracefullyShutdownGroup,
                          failureTerminationBehavior: .gracefullyShutdownGroup),
                    .init(service: admin, successTerminationBehavior: .gracefullyShutdownGroup,
                          failureTerminationBehavior: .gracefullyShutdownGroup),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        do {
            try await serviceGroup.run()
        } catch {
            logger.critical("stopped: \(error)")
            try? await group.shutdownGracefully()
            throw ExitCode(1)
        }
        try? await group.shutdownGracefully()
    }
}

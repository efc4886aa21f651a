import AdminAPI
import ArgumentParser
import Logging
import NIOCore
import NIOPosix
import ProxyControl
import ProxyEngine
import ProxyModel
import RouteStore
import ServiceLifecycle

/// The engine, store and admin API that `serve`, `console` and `demo` run, wired the same way.
struct Runtime {
    let logger: Logger
    let store: any RouteStore
    let engine: ProxyEngine
    let group: MultiThreadedEventLoopGroup
    /// The admin API's bound `ip:port`, once it listens.
    let adminAddress: ReadyValue<String>
    /// The stream listeners' bound `ip:port`s, once they listen.
    let listenAddresses: ReadyValue<[String]>
    private let services: [any Service]

    /// Checks the admin key, sets up logging and metrics, loads the store (exiting 1 with every problem when
    /// it is invalid), and builds the engine and the admin API; nothing listens yet.
    static func prepare(_ resolved: ResolvedFiles, logLevel: String?, logFile: String?,
                        adminFallbackToAnyPort: Bool = false) async throws -> Runtime
    {
        let config = resolved.loaded.config
        if let problem = config.admin.publicKeyProblem {
            printError("error: \(resolved.configName): refusing to start: \(problem)")
            throw ExitCode(1)
        }
        try LogSetup.bootstrap(level: logLevel ?? config.engine.logLevel, file: logFile)
        let logger = Logger(label: "mqtt-proxy")
        for note in resolved.startupNotes { logger.log(level: note.warning ? .warning : .notice, "\(note.text)") }
        let (prometheus, metricsFactory) = AdminServer.bootstrapMetrics()

        let store = try RouteStores.make(config, storePath: resolved.storePath, logger: Logger(label: "mqtt-proxy.store"))
        do {
            try await store.load()
        } catch {
            for problem in error.problems { printError("error: \(problem)") }
            throw ExitCode(1)
        }
        let listeners = config.proxyMode.streamEnabled ? config.listeners : []

        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let engine = ProxyEngine(settings: config.engine, group: group, logger: logger,
                                 metrics: EngineMetrics(factory: metricsFactory))
        let engineService = EngineService(engine: engine, store: store, listeners: listeners, logger: logger)
        let adminAddress = ReadyValue<String>()
        let admin = AdminServer.service(
            settings: AdminSettings(admin: config.admin, proxyMode: config.proxyMode, bodyLimit: config.admin.bodyLimit,
                                  instanceID: config.engine.resolvedInstanceID),
            store: store, engine: engine, metrics: prometheus, logger: Logger(label: "mqtt-proxy.admin"),
            fallbackToAnyPort: adminFallbackToAnyPort, listening: adminAddress)
        let listening = engineService.listening
        let companions = RouteStores.companions(of: store, instanceID: config.engine.resolvedInstanceID) {
            await (listening.value() ?? [], adminAddress.value())
        }
        return Runtime(logger: logger, store: store, engine: engine, group: group, adminAddress: adminAddress,
                       listenAddresses: listening, services: [engineService, admin] + companions)
    }

    /// Runs the engine, the admin API and `extra` services until one of them ends or SIGTERM/SIGINT; then
    /// stops them all gracefully (the last service listed stops first). Rethrows what made the group fail,
    /// after logging it.
    func run(adding extra: [any Service] = []) async throws {
        let configurations = (services + extra).map {
            ServiceGroupConfiguration.ServiceConfiguration(
                service: $0, successTerminationBehavior: .gracefullyShutdownGroup,
                failureTerminationBehavior: .gracefullyShutdownGroup)
        }
        let serviceGroup = ServiceGroup(
            configuration: .init(services: configurations, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await serviceGroup.run()
        } catch {
            logger.critical("stopped: \(error)")
            try? await group.shutdownGracefully()
            LogSetup.flush()
            throw error
        }
        try? await group.shutdownGracefully()
        LogSetup.flush()
    }
}

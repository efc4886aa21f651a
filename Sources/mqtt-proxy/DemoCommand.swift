import ArgumentParser
import Console
import Demo
import ProxyModel
import ServiceLifecycle

/// `mqtt-proxy demo`: demo brokers, a chash route and simulated clients, under the console or headless.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Demo brokers, a chash route and simulated clients, shown in the console (or headless).",
        discussion: "Demo keys in Clients → Nodes: k kill, r revive, h/H hang/unhang, D/U drain/undrain, + add, - remove, "
            + "w weight. Headless: kill, revive, hang, unhang, drain, undrain, then a report of shares and moves.")

    @Option(name: .long, help: "Number of demo brokers.") var brokers = 3
    @Option(name: .long, help: "Number of simulated clients.") var clients = 200
    @Option(name: .long, help: "Clients disconnected and reconnected per second, e.g. 5/s or 30/m (0: none).")
    var churn = "5/s"
    @Option(name: .long, help: "Seed of the client ids and timings (the same seed gives the same demo).")
    var seed: UInt64 = 7
    @Flag(name: .long, help: "No console: run the scenario for --duration seconds and print the report.")
    var headless = false
    @Option(name: .long, help: "Seconds to run headless.") var duration: Double = 30
    @Option(name: .long, help: "Admin API port (default 9180 when free, else any free port; 0: any free port).")
    var adminPort: Int?
    @OptionGroup var log: LogOptions
    func validate() throws {
        guard (1...50).contains(brokers) else { throw ValidationError("--brokers must be 1…50") }
        guard (1...20_000).contains(clients) else { throw ValidationError("--clients must be 1…20000") }
        guard DemoSettings.parseChurn(churn) != nil else { throw ValidationError("--churn: expected e.g. 5/s, 30/m or 0") }
        guard duration >= 3 else { throw ValidationError("--duration must be at least 3 seconds") }
    }

    func run() async throws {
        if !headless { try requireTerminal(orElse: " (or run `mqtt-proxy demo --headless`)") }
        let rate = DemoSettings.parseChurn(churn) ?? 5
        let settings = DemoSettings(brokers: brokers, clients: clients, churnPerSecond: rate, seed: seed)

        let resolved = try DemoSettings.files(adminPort: adminPort ?? 9180)
        defer { DemoSettings.removeTemporaryStore(resolved) }
        let runtime = try await Runtime.prepare(
            resolved, logLevel: log.logLevel ?? (headless && log.logFile == nil ? "error" : nil),
            logFile: headless ? log.logFile : (log.logFile ?? "mqtt-proxy-demo.log"),
            adminFallbackToAnyPort: adminPort == nil)

        let controller = try await DemoController.start(settings: settings, engine: runtime.engine, store: runtime.store)
        let (listening, admin, churn, duration) = (runtime.listenAddresses, runtime.adminAddress, churn, duration)
        let demo = DemoService(controller: controller, proxyPort: {
            await listening.value()?.first.flatMap { HostPort($0) }?.port
        }, headlessDuration: headless ? duration : nil, onStarted: { port in
            let banner = settings.banner(proxyPort: port, admin: await admin.value() ?? "?", cluster: controller.cluster,
                                         churn: churn)
            print(banner)
            runtime.logger.notice("\(banner)")
        }, onProgress: { print($0) }) { report in
            print("\nafter \(String(format: "%.0f", duration)) s:\n" + report.text)
        }
        var services: [any Service] = [demo]
        if !headless {
            services.append(ConsoleService(engine: runtime.engine, store: runtime.store, readonly: false,
                                           logger: runtime.logger, adminAddress: { admin.current },
                                           demo: DemoConsoleBridge(controller: controller)))
        }
        do {
            try await runtime.run(adding: services)
        } catch let error as ConsoleTerminalError {
            printError("error: \(error)")
            throw ExitCode(1)
        }
    }
}

/// The console's demo keys, carried out by the demo controller.
struct DemoConsoleBridge: DemoControl {
    let controller: DemoController

    func kill(node: String) async -> String { await controller.kill(node) }
    func revive(node: String) async -> String { await controller.revive(node) }
    func addBroker() async throws -> String { try await controller.addBroker() }
    func hang(node: String) async -> String { await controller.hang(node) }
    func unhang(node: String) async -> String { await controller.unhang(node) }
}

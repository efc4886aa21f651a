import ArgumentParser
import Console
import Demo
import Foundation
import Logging
import NIOCore
import NIOPosix
import ProxyModel
import ServiceLifecycle

/// `mqtt-proxy demo`: consistent hashing to watch, with nothing installed. Starts demo brokers, a chash route
/// over them and a fleet of simulated clients through the proxy, then opens the console on it (or, headless,
/// runs a kill-and-revive scenario and prints the report).
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Demo brokers, a chash route and simulated clients, shown in the console (or headless).",
        discussion: """
            In the console, Clients → Nodes has demo keys: k kills the selected broker (its clients reconnect \
            onto the next ring node), r revives it, + adds a broker to the route, - removes the selected node, \
            w changes its weight; every route change shows the clients it would move first. Headless, the \
            second broker is killed a third of the way in and revived at two thirds, and a table of expected \
            and observed shares and of the clients moved at each change is printed at the end.
            """)

    @Option(name: .long, help: "Number of demo brokers.")
    var brokers = 3

    @Option(name: .long, help: "Number of simulated clients.")
    var clients = 200

    @Option(name: .long, help: "Clients disconnected and reconnected per second, e.g. 5/s or 30/m (0: none).")
    var churn = "5/s"

    @Option(name: .long, help: "Seed of the client ids and timings (the same seed gives the same demo).")
    var seed: UInt64 = 7

    @Flag(name: .long, help: "No console: run the scenario for --duration seconds and print the report.")
    var headless = false

    @Option(name: .long, help: "Seconds to run headless.")
    var duration: Double = 30

    @Option(name: .long, help: "Admin API port (default 9180 when free, else any free port; 0: any free port).")
    var adminPort: Int?

    @Option(name: .long, help: "Log file (default: mqtt-proxy-demo.log; headless: errors only, on standard error).")
    var logFile: String?

    func validate() throws {
        guard (1...50).contains(brokers) else { throw ValidationError("--brokers must be 1…50") }
        guard (1...20_000).contains(clients) else { throw ValidationError("--clients must be 1…20000") }
        guard DemoSettings.parseChurn(churn) != nil else { throw ValidationError("--churn: expected e.g. 5/s, 30/m or 0") }
        guard duration >= 3 else { throw ValidationError("--duration must be at least 3 seconds") }
    }

    func run() async throws {
        if !headless, let problem = ConsoleService.terminalProblem() {
            printError("error: \(ConsoleTerminalError.noTerminal(problem)) (or run `mqtt-proxy demo --headless`)")
            throw ExitCode(1)
        }
        var settings = DemoSettings()
        settings.brokers = brokers
        settings.clients = clients
        settings.churnPerSecond = DemoSettings.parseChurn(churn) ?? 5
        settings.seed = seed

        let dir = NSTemporaryDirectory() + "mqtt-proxy-demo-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let proxyPort = try LoopbackPort.free()
        let wanted = self.adminPort ?? 9180
        let adminPort = wanted != 0 && LoopbackPort.isFree(wanted) ? wanted : try LoopbackPort.free()
        try demoConfig(proxyPort: proxyPort, adminPort: adminPort).write(toFile: dir + "/config.yaml", atomically: true,
                                                                         encoding: .utf8)
        let loaded = try ProxyConfig.load(text: String(contentsOfFile: dir + "/config.yaml", encoding: .utf8),
                                          file: dir + "/config.yaml")
        let resolved = ResolvedFiles(configPath: dir + "/config.yaml", storePath: dir + "/apisix.yaml", loaded: loaded)
        let runtime = try await Runtime.prepare(resolved, logLevel: headless && logFile == nil ? "error" : nil,
                                                logFile: headless ? logFile : (logFile ?? "mqtt-proxy-demo.log"))

        let demoGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let logger = Logger(label: "mqtt-proxy.demo")
        let cluster = try await DemoCluster.start(count: brokers, group: demoGroup, logger: logger)
        let fleet = ClientFleet(ids: DemoClientIDs.make(count: clients, seed: seed, emptyShare: settings.emptyIDShare),
                                proxyHost: "127.0.0.1", proxyPort: proxyPort, settings: settings,
                                loop: demoGroup.next())
        let controller = DemoController(cluster: cluster, fleet: fleet, settings: settings, engine: runtime.engine,
                                        store: runtime.store, logger: logger)
        try await controller.installRoute()
        let brokersText = cluster.brokers.map { "\($0.name) \($0.address)" }.joined(separator: ", ")
        let banner = """
            mqtt-proxy demo: proxy on 127.0.0.1:\(proxyPort), admin API on 127.0.0.1:\(adminPort) \
            (key edd1c9f034335f136f87ad84b625c8f1); \(brokers) brokers (\(brokersText)); \(clients) clients, \
            churn \(churn), seed \(seed)
            """
        print(banner)
        runtime.logger.notice("\(banner)")
        let duration = self.duration
        let demo = DemoService(controller: controller, headlessDuration: headless ? duration : nil,
                               onProgress: { print($0) }) { report in
            print("\nafter \(String(format: "%.0f", duration)) s:\n" + report.text)
        }
        var services: [any Service] = [demo]
        if !headless {
            let adminAddress = runtime.adminAddress
            services.append(ConsoleService(engine: runtime.engine, store: runtime.store, readonly: false,
                                           logger: runtime.logger, adminAddress: { adminAddress.current },
                                           demo: DemoConsoleBridge(controller: controller)))
        }
        do {
            try await runtime.run(adding: services)
        } catch let error as ConsoleTerminalError {
            printError("error: \(error)")
            throw ExitCode(1)
        }
        try? await demoGroup.shutdownGracefully()
    }

    private func demoConfig(proxyPort: Int, adminPort: Int) -> String {
        """
        apisix:
          stream_proxy:
            tcp:
              - "127.0.0.1:\(proxyPort)"
        deployment:
          admin:
            admin_key:
              - name: admin
                key: edd1c9f034335f136f87ad84b625c8f1
                role: admin
            admin_listen:
              ip: 127.0.0.1
              port: \(adminPort)
        mqtt_proxy:
          connect_timeout: 1
          store_watch_interval: 1

        """
    }
}

/// The console's demo keys, carried out by the demo controller.
struct DemoConsoleBridge: DemoControl {
    let controller: DemoController

    func kill(node: String) async -> String { await controller.kill(node) }
    func revive(node: String) async -> String { await controller.revive(node) }
    func addBroker() async throws -> String { try await controller.addBroker() }
}

/// Free loopback ports, found by binding port 0.
enum LoopbackPort {
    static func free() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ValidationError("cannot open a socket to find a free port") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0
            }
        }
        guard ok else { throw ValidationError("cannot find a free loopback port") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    static func isFree(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}

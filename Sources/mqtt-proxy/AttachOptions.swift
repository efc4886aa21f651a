import ArgumentParser
import Console
import Foundation
import Logging
import ProxyControl
import ProxyEngine
import RemoteControl
import RouteStore
import ServiceLifecycle

/// `console --attach`: the console over running instances, through their admin APIs; no engine runs here.
struct AttachOptions: ParsableArguments {
    @Option(name: .long, parsing: .singleValue,
            help: ArgumentHelp("Attach to a running instance's admin API (http://host:9180); repeat for several; "
                + "`etcd` attaches to every instance registered in the config's etcd. No engine runs in this console."))
    var attach: [String] = []

    @Option(name: .long, help: "Admin key for --attach (default: MQTT_PROXY_ADMIN_KEY); a viewer key makes it read-only.")
    var key: String?

    var isAttached: Bool { !attach.isEmpty }

    /// The instances to follow, and how to find new ones (with `etcd`).
    func targets(_ files: FileOptions) async throws -> (urls: [String], discover: (@Sendable () async -> [String])?) {
        guard attach.contains("etcd") else { return (attach, nil) }
        let config = try files.resolve().loaded.config
        guard let etcd = config.etcd else {
            printError("error: --attach etcd needs deployment.etcd in \(files.config ?? "conf/config.yaml")")
            throw ExitCode(1)
        }
        let trusted = config.engine.tls.trustedCertificateFile
        let discover: @Sendable () async -> [String] = {
            (try? await FleetDiscovery.urls(etcd: etcd, trustedCA: trusted)) ?? []
        }
        let found: [String]
        do {
            found = try await FleetDiscovery.urls(etcd: etcd, trustedCA: trusted)
        } catch {
            printError("error: --attach etcd: \(error)")
            throw ExitCode(1)
        }
        let urls = attach.filter { $0 != "etcd" } + found
        guard !urls.isEmpty else {
            printError("error: --attach etcd: no instance is registered under \(etcd.normalizedPrefix)/data_plane/server_info/")
            throw ExitCode(1)
        }
        return (urls, discover)
    }

    /// The fleet followed and the store edits go through (the first instance that answers, then the others when it
    /// is lost and the routes are in etcd); exits 1 with every instance's reason when none answers.
    func connect(_ urls: [String]) async throws -> (FleetControl, AdminAPIStore, readonly: Bool) {
        let key = self.key ?? ProcessInfo.processInfo.environment["MQTT_PROXY_ADMIN_KEY"]
        let fleet = FleetControl(urls: urls, key: key)
        var problems: [String] = []
        let clients = fleet.instances.map(\.client)
        for (index, instance) in fleet.instances.enumerated() {
            // This one first; the others are used when it stops answering (with etcd, they share the routes).
            let store = AdminAPIStore(clients: Array(clients[index...] + clients[..<index]))
            do {
                try await store.load()
                let role = try? await instance.client.call(.GET, "/v1/summary").body["instance"]?["role"]?.stringValue
                return (fleet, store, role == "viewer")
            } catch {
                problems.append("\(instance.url): \(error)")
            }
        }
        printError("error: cannot attach: " + problems.joined(separator: "; "))
        throw ExitCode(1)
    }

    /// Runs the console over the instances until the operator quits (or SIGINT/SIGTERM).
    func runConsole(_ files: FileOptions, log: LogOptions, readonly: Bool) async throws {
        let (urls, discover) = try await targets(files)
        try LogSetup.bootstrap(level: log.logLevel ?? "notice", file: log.logFile ?? "mqtt-proxy-attach.log")
        let logger = Logger(label: "mqtt-proxy.attach")
        let (fleet, store, viewer) = try await connect(urls)
        logger.notice("attached to \(urls.joined(separator: ", "))\(viewer ? " with a viewer key" : "")")
        let console = ConsoleService(engine: fleet, store: store, readonly: readonly || viewer, logger: logger)
        let follower = FleetService(fleet: fleet, store: store, logger: logger, discover: discover)
        let services = ([follower, console] as [any Service]).map {
            ServiceGroupConfiguration.ServiceConfiguration(
                service: $0, successTerminationBehavior: .gracefullyShutdownGroup,
                failureTerminationBehavior: .gracefullyShutdownGroup)
        }
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint],
                                                      logger: logger))
        defer { LogSetup.flush() }
        let started = Date()
        do {
            try await group.run()
        } catch let error as ConsoleTerminalError {
            printError("error: \(error)")
            throw ExitCode(1)
        }
        // What following cost: the bytes received from each instance (the admin stream, summaries, lists).
        let seconds = max(0.001, Date().timeIntervalSince(started))
        for instance in fleet.instances {
            let bytes = instance.client.bytesReceived
            let rate = String(format: "%.1f", Double(bytes) / seconds / 1000)
            logger.notice("followed \(instance.url) for \(Int(seconds)) s: received \(bytes) bytes (\(rate) KB/s)")
        }
    }

    /// `--once --attach`: waits (up to `wait` seconds) until every instance answered once, prints the frame, exits.
    func printOnce(_ files: FileOptions, view: ViewKind, width: Int, height: Int, readonly: Bool,
                   wait: Double = 5) async throws
    {
        let (urls, _) = try await targets(files)
        let (fleet, store, viewer) = try await connect(urls)
        let follow = Task { await withDiscardingTaskGroup { group in
            for instance in fleet.instances { group.addTask { await instance.run() } }
        } }
        let deadline = Date().addingTimeInterval(wait)
        // Each instance read whole, or given up on (it answered nothing).
        while Date() < deadline, fleet.instances.contains(where: { !$0.isSettled }) {
            try? await Task.sleep(nanoseconds: 50_000_000)
        }
        print(OnceRender.text(engine: fleet, store: await store.snapshot(), view: view, width: width, height: height,
                              readonly: readonly || viewer), terminator: "")
        follow.cancel()
    }
}

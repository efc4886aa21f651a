import ArgumentParser
import Foundation
import MQTTBenchCore
import NIOCore
import NIOPosix

/// `mqtt-bench`: load scenarios against an MQTT proxy (or a broker directly) and a fast test upstream.
///
/// Each scenario prints one JSON line on standard output and one human line on standard error.
@main
struct MQTTBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mqtt-bench",
        abstract: "MQTT proxy benchmarks: connect rate, throughput, latency, idle memory; and a test upstream.",
        subcommands: [Connect.self, Throughput.self, Latency.self, Idle.self, Upstream.self, Report.self]
    )
}

/// Options every load scenario takes.
struct ClientOptions: ParsableArguments {
    @Option(help: "Where clients connect: host:port, comma-separated for several (round-robin).")
    var target: String

    @Option(help: "Run the test upstream in this process on these host:port addresses (comma-separated).")
    var upstream: String?

    @Option(help: "Label of this run in the JSON result (e.g. direct, mqtt-proxy, haproxy).")
    var label = "run"

    @Option(help: "Local source addresses 127.0.2.1… to spread client sockets over (0: kernel's choice).")
    var sources = 8

    @Option(help: "Event loop threads (client and in-process upstream share them).")
    var threads = System.coreCount

    @Option(help: "MQTT protocol version: 4 (3.1.1) or 5.")
    var mqttVersion: UInt8 = 4

    @Option(help: "Seconds measured.")
    var duration = 5.0

    @Option(help: "Seconds of load before measuring.")
    var warmup = 1.0

    @Option(help: "PID of the process under test (the proxy): its CPU use is reported, and its RSS by idle.")
    var pid: Int32?

    func validate() throws {
        guard mqttVersion == 4 || mqttVersion == 5 else {
            throw ValidationError("--mqtt-version must be 4 (3.1.1) or 5")
        }
    }

    /// Warm-up, duration and MQTT version as the scenarios take them.
    var runSettings: RunSettings {
        RunSettings(warmup: .nanoseconds(Int64(warmup * 1e9)), duration: .nanoseconds(Int64(duration * 1e9)),
                    protocolLevel: mqttVersion)
    }

    func connector() throws -> BenchConnector {
        BenchConnector(targets: try parseAddresses(target), sources: try BenchConnector.loopbackSources(count: sources))
    }

    /// Runs `body` with an event loop group and, when `--upstream` is given, the in-process upstream; adds the
    /// CPU use of `--pid` and of this process over the whole run (setup and warm-up included).
    func withEnvironment(
        mode: TestUpstream.Mode,
        _ body: (any EventLoopGroup, TestUpstream?) async throws -> BenchResult
    ) async throws -> BenchResult {
        let probe = CPUProbe(pid: pid)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        var upstreamServer: TestUpstream?
        do {
            if let upstream {
                let addresses = try parseAddresses(upstream)
                upstreamServer = try await TestUpstream(addresses: addresses, mode: mode, group: group)
            }
            var result = try await body(group, upstreamServer)
            probe.annotate(&result)
            await upstreamServer?.close()
            try await group.shutdownGracefully()
            return result
        } catch {
            await upstreamServer?.close()
            try? await group.shutdownGracefully()
            throw error
        }
    }
}

/// Parses `host:port[,host:port…]` into socket addresses (IPv4 or IPv6 literals; `[v6]:port` allowed).
func parseAddresses(_ list: String) throws -> [SocketAddress] {
    try list.split(separator: ",").map { item in
        let text = item.trimmingCharacters(in: .whitespaces)
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]) else {
            throw ValidationError("'\(text)' is not host:port")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") {
            host = String(host.dropFirst().dropLast())
        }
        return try SocketAddress(ipAddress: host, port: port)
    }
}

/// Prints a result: JSON on standard output, the human line on standard error.
func emit(_ result: BenchResult) {
    print(result.jsonLine)
    FileHandle.standardError.write(Data((result.humanLine + "\n").utf8))
}

struct Connect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "P parallel clients loop: connect, CONNECT, wait CONNACK, DISCONNECT, close."
    )

    @OptionGroup var options: ClientOptions

    @Option(help: "Parallel clients.")
    var parallel = 32

    func run() async throws {
        let result = try await options.withEnvironment(mode: .sink) { group, _ in
            var scenario = ConnectScenario(connector: try options.connector())
            scenario.parallel = parallel
            scenario.settings = options.runSettings
            return try await scenario.run(group: group, label: options.label)
        }
        emit(result)
    }
}

struct Throughput: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "C connections stream QoS 0 PUBLISH packets; MB/s and msg/s counted by the in-process sink."
    )

    @OptionGroup var options: ClientOptions

    @Option(help: "Connections.")
    var connections = 8

    @Option(help: "PUBLISH packet size in bytes, fixed header included.")
    var messageSize = 256

    func run() async throws {
        guard options.upstream != nil else {
            throw ValidationError("throughput counts at the receiving end: give --upstream to run the sink here")
        }
        let result = try await options.withEnvironment(mode: .sink) { group, upstream in
            var scenario = ThroughputScenario(connector: try options.connector())
            scenario.connections = connections
            scenario.packetSize = messageSize
            scenario.settings = options.runSettings
            return try await scenario.run(group: group, counters: upstream!.counters, label: options.label)
        }
        emit(result)
    }
}

struct Latency: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Publish-and-echo round trips at a fixed rate per connection (needs an echo upstream)."
    )

    @OptionGroup var options: ClientOptions

    @Option(help: "Connections.")
    var connections = 16

    @Option(help: "Messages per second per connection.")
    var rate = 100

    @Option(help: "PUBLISH payload bytes (at least 8: the send time).")
    var payloadSize = 64

    func run() async throws {
        let result = try await options.withEnvironment(mode: .echo) { group, _ in
            var scenario = LatencyScenario(connector: try options.connector())
            scenario.connections = connections
            scenario.rate = rate
            scenario.payloadSize = payloadSize
            scenario.settings = options.runSettings
            return try await scenario.run(group: group, label: options.label)
        }
        emit(result)
    }
}

struct Idle: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Open N sessions, hold them, report the RSS growth of --pid per connection."
    )

    @OptionGroup var options: ClientOptions

    @Option(help: "Sessions to open and hold.")
    var connections = 10_000

    @Option(help: "Seconds to hold them before reading the RSS.")
    var hold = 3.0

    func run() async throws {
        // Before the event loops exist, so every socket this process opens may use the raised limit.
        let limit = ProcessStats.raiseOpenFileLimit()
        if limit < connections * (options.upstream == nil ? 1 : 2) + 100 {
            let warning = "idle: warning: open-file limit \(limit) is low for \(connections) sessions\n"
            FileHandle.standardError.write(Data(warning.utf8))
        }
        let result = try await options.withEnvironment(mode: .sink) { group, _ in
            var scenario = IdleScenario(connector: try options.connector())
            scenario.connections = connections
            scenario.hold = .nanoseconds(Int64(hold * 1e9))
            scenario.pid = options.pid
            scenario.protocolLevel = options.mqttVersion
            return try await scenario.run(group: group, label: options.label)
        }
        emit(result)
    }
}

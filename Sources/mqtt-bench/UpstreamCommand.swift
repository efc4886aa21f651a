import ArgumentParser
import Dispatch
import Foundation
import MQTTBenchCore
import NIOCore
import NIOPosix

/// `mqtt-bench upstream`: the test upstream on its own, for use with other clients or a proxy under test.
///
/// Prints its counters as a JSON line every `--report-interval` seconds and once more when it stops
/// (after `--duration`, or on SIGINT/SIGTERM).
struct Upstream: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fast test upstream: CONNACK for every CONNECT, PINGRESP, PUBLISH counted (sink) or echoed."
    )

    @Option(help: "host:port addresses to listen on, comma-separated.")
    var listen: String

    @Flag(help: "Write every PUBLISH back to its sender instead of discarding it.")
    var echo = false

    @Option(help: "Event loop threads.")
    var threads = System.coreCount

    @Option(help: "Stop after this many seconds (0: run until SIGINT/SIGTERM).")
    var duration = 0.0

    @Option(help: "Print the counters every this many seconds (0: only at the end).")
    var reportInterval = 0.0

    func run() async throws {
        ProcessStats.raiseOpenFileLimit()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let upstream = try await TestUpstream(
            addresses: try parseAddresses(listen), mode: echo ? .echo : .sink, group: group
        )
        let bound = upstream.localAddresses.map { "\($0)" }.joined(separator: ", ")
        FileHandle.standardError.write(Data("upstream: listening on \(bound) (\(upstream.mode.rawValue))\n".utf8))

        // Stop on a signal or at the deadline, whichever comes first.
        let stop = AsyncStream<Void>.makeStream()
        var sources: [any DispatchSourceSignal] = []
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { stop.continuation.yield() }
            source.resume()
            sources.append(source)
        }
        let reporter = Task {
            guard reportInterval > 0 else { return }
            while !Task.isCancelled {
                try await Task.sleep(nanoseconds: UInt64(reportInterval * 1e9))
                printCounters(upstream.counters.snapshot)
            }
        }
        let timer = Task {
            guard duration > 0 else { return }
            try await Task.sleep(nanoseconds: UInt64(duration * 1e9))
            stop.continuation.yield()
        }
        for await _ in stop.stream {
            break
        }
        reporter.cancel()
        timer.cancel()
        sources.forEach { $0.cancel() }
        printCounters(upstream.counters.snapshot)
        await upstream.close()
        try await group.shutdownGracefully()
    }

    private func printCounters(_ snapshot: UpstreamCounters.Snapshot) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        if let data = try? encoder.encode(snapshot) {
            print(String(decoding: data, as: UTF8.self))
            fflush(nil)  // all streams: stdout may be a pipe
        }
    }
}

/// `mqtt-bench report FILE…`: the table of medians and ratios from JSON result lines.
struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the table of medians and ratios from files of JSON result lines."
    )

    @Argument(help: "Files with one JSON result per line (other lines are ignored).")
    var files: [String]

    @Option(help: "Column labels in order; the first is the baseline.")
    var labels = "direct,mqtt-proxy,haproxy"

    @Option(help: "The labels the ratios are about, comma-separated (each gets a column against the rival).")
    var subject = "mqtt-proxy"

    @Option(help: "The label the subject is compared with besides the baseline.")
    var rival = "haproxy"

    func run() throws {
        var results: [BenchResult] = []
        for file in files {
            let text = try String(contentsOfFile: file, encoding: .utf8)
            results += text.split(separator: "\n").compactMap { BenchResult.parse(line: String($0)) }
        }
        let table = ResultTable(
            results: results, labels: labels.split(separator: ",").map(String.init),
            subjects: subject.split(separator: ",").map(String.init), rival: rival
        )
        print(table.render())
    }
}

import Foundation

/// The outcome of one benchmark run: one JSON line for machines, one sentence for people.
public struct BenchResult: Codable, Sendable, Equatable {
    /// `connect`, `throughput`, `latency` or `idle`.
    public var scenario: String
    /// What was measured, e.g. `direct`, `mqtt-proxy`, `haproxy` (free text from `--label`).
    public var label: String
    /// Numbers, e.g. `rate`, `p99_us`, `mb_per_s`, `rss_per_conn_bytes`.
    public var metrics: [String: Double]
    /// Settings of the run (connections, duration, …), for the record.
    public var settings: [String: String]

    /// Creates a result.
    public init(scenario: String, label: String, metrics: [String: Double], settings: [String: String] = [:]) {
        self.scenario = scenario
        self.label = label
        self.metrics = metrics
        self.settings = settings
    }

    /// One line of JSON with sorted keys.
    public var jsonLine: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(self)) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    /// Parses a line written by ``jsonLine``; nil for anything else (blank lines, comments, log lines).
    public static func parse(line: String) -> BenchResult? {
        guard line.hasPrefix("{") else { return nil }
        return try? JSONDecoder().decode(BenchResult.self, from: Data(line.utf8))
    }

    /// A short human-readable summary: the scenario's headline numbers, then the CPU use when measured.
    public var humanLine: String {
        var line = headline
        if let target = metrics["target_cpu_cores"] {
            line += String(format: "; proxy CPU %.2f cores", target)
        }
        if let bench = metrics["bench_cpu_cores"] {
            line += String(format: "; mqtt-bench CPU %.2f cores", bench)
        }
        return line
    }

    private var headline: String {
        func value(_ key: String, _ digits: Int = 0) -> String {
            guard let number = metrics[key] else { return "-" }
            return String(format: "%.\(digits)f", number)
        }
        let head = "\(scenario) [\(label)]"
        switch scenario {
        case "connect":
            return "\(head): \(value("rate")) CONNECT->CONNACK/s, latency p50 \(value("p50_us")) µs, "
                + "p99 \(value("p99_us")) µs, p99.9 \(value("p999_us")) µs, errors \(value("errors"))"
        case "throughput":
            return "\(head): \(value("mb_per_s", 1)) MB/s, \(value("msgs_per_s")) msg/s delivered to the upstream, "
                + "\(value("connections")) connections"
        case "latency":
            return "\(head): round trip p50 \(value("p50_us", 1)) µs, p99 \(value("p99_us", 1)) µs, "
                + "p99.9 \(value("p999_us", 1)) µs over \(value("samples")) samples, lost \(value("lost"))"
        case "idle":
            return "\(head): \(value("established")) connections, RSS \(value("rss_before_kib")) -> "
                + "\(value("rss_after_kib")) KiB, \(value("rss_per_conn_bytes")) bytes per connection"
        default:
            return "\(head): \(metrics)"
        }
    }
}

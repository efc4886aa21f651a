import Foundation

/// The summary table of a benchmark session: medians per target and the ratios the project's targets name.
public struct ResultTable: Sendable {
    /// One row: a metric of a scenario, or the latency a target adds over `direct`.
    public struct Row: Sendable, Equatable {
        public var title: String
        public var scenario: String
        public var metric: String
        /// True when a bigger number is better (rates), false for latencies and memory.
        public var higherIsBetter: Bool
        /// Subtract the `direct` median (added latency).
        public var minusDirect: Bool = false
        /// Digits after the decimal point.
        public var digits: Int = 0
    }

    /// The rows of the standard table, in order.
    public static let standardRows: [Row] = [
        Row(title: "connect: CONNECT->CONNACK/s", scenario: "connect", metric: "rate", higherIsBetter: true),
        Row(title: "connect: latency p50 (µs)", scenario: "connect", metric: "p50_us", higherIsBetter: false),
        Row(title: "connect: latency p99 (µs)", scenario: "connect", metric: "p99_us", higherIsBetter: false),
        Row(title: "connect: latency p99.9 (µs)", scenario: "connect", metric: "p999_us", higherIsBetter: false),
        Row(title: "connect: proxy CPU (cores busy)", scenario: "connect", metric: "target_cpu_cores",
            higherIsBetter: false, digits: 2),
        Row(title: "connect: proxy CPU per connection (µs)", scenario: "connect", metric: "target_cpu_us_per_conn",
            higherIsBetter: false, digits: 1),
        Row(title: "connect: proxy context switches per connection", scenario: "connect",
            metric: "target_ctxsw_per_conn", higherIsBetter: false, digits: 2),
        Row(title: "connect: load generator CPU (cores busy)", scenario: "connect", metric: "bench_cpu_cores",
            higherIsBetter: false, digits: 2),
        Row(title: "held: sessions held", scenario: "connect-held", metric: "held", higherIsBetter: true),
        Row(title: "held: proxy RSS per held session (bytes)", scenario: "connect-held", metric: "rss_per_held_bytes",
            higherIsBetter: false),
        Row(title: "held: CONNECT->CONNACK/s while held", scenario: "connect-held", metric: "rate",
            higherIsBetter: true),
        Row(title: "held: proxy CPU per connection (µs)", scenario: "connect-held", metric: "target_cpu_us_per_conn",
            higherIsBetter: false, digits: 1),
        Row(title: "throughput: MB/s delivered", scenario: "throughput", metric: "mb_per_s", higherIsBetter: true,
            digits: 1),
        Row(title: "throughput: msg/s delivered", scenario: "throughput", metric: "msgs_per_s", higherIsBetter: true),
        Row(title: "throughput: proxy CPU (cores busy)", scenario: "throughput", metric: "target_cpu_cores",
            higherIsBetter: false, digits: 2),
        Row(title: "latency: round trip p50 (µs)", scenario: "latency", metric: "p50_us", higherIsBetter: false,
            digits: 1),
        Row(title: "latency: round trip p99 (µs)", scenario: "latency", metric: "p99_us", higherIsBetter: false,
            digits: 1),
        Row(title: "latency: round trip p99.9 (µs)", scenario: "latency", metric: "p999_us", higherIsBetter: false,
            digits: 1),
        Row(title: "latency: added p50 (µs)", scenario: "latency", metric: "p50_us", higherIsBetter: false,
            minusDirect: true, digits: 1),
        Row(title: "latency: added p99 (µs)", scenario: "latency", metric: "p99_us", higherIsBetter: false,
            minusDirect: true, digits: 1),
        Row(title: "latency: added p99.9 (µs)", scenario: "latency", metric: "p999_us", higherIsBetter: false,
            minusDirect: true, digits: 1),
        Row(title: "idle: connections held", scenario: "idle", metric: "established", higherIsBetter: true),
        Row(title: "idle: RSS per connection (bytes)", scenario: "idle", metric: "rss_per_conn_bytes",
            higherIsBetter: false),
    ]

    /// The labels of the columns, in order; the first is the baseline (`direct`).
    public var labels: [String]
    /// The labels the ratios are about (each gets a column against `rival`; the first also one against the
    /// baseline), and the label they are compared with.
    public var subjects: [String]
    public var rival: String
    /// The first subject.
    public var subject: String { subjects[0] }
    public var rows: [Row]
    private var values: [String: [Double]] = [:]

    /// Collects `results`; labels not in `labels` are ignored.
    public init(
        results: [BenchResult],
        labels: [String] = ["direct", "mqtt-proxy", "haproxy"],
        subjects: [String] = ["mqtt-proxy"],
        rival: String = "haproxy",
        rows: [Row] = standardRows
    ) {
        self.labels = labels
        self.subjects = subjects.isEmpty ? ["mqtt-proxy"] : subjects
        self.rival = rival
        self.rows = rows
        for result in results {
            for (metric, value) in result.metrics {
                values[Self.key(result.scenario, metric, result.label), default: []].append(value)
            }
        }
    }

    private static func key(_ scenario: String, _ metric: String, _ label: String) -> String {
        "\(scenario)/\(metric)/\(label)"
    }

    /// The median of a sorted copy (mean of the two middle values for an even count); nil when empty.
    public static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    /// How many runs a label has for a row.
    public func runs(_ row: Row, label: String) -> Int {
        values[Self.key(row.scenario, row.metric, label)]?.count ?? 0
    }

    /// The median a row shows for a label (minus the baseline's median for added-latency rows).
    public func value(_ row: Row, label: String) -> Double? {
        guard let median = Self.median(values[Self.key(row.scenario, row.metric, label)] ?? []) else { return nil }
        guard row.minusDirect else { return median }
        guard label != labels[0], let base = Self.median(values[Self.key(row.scenario, row.metric, labels[0])] ?? [])
        else { return nil }
        return median - base
    }

    /// `subject / other` for a row (the first subject unless named), nil when either is missing or the divisor is 0.
    public func ratio(_ row: Row, over other: String, subject: String? = nil) -> Double? {
        guard let top = value(row, label: subject ?? self.subject), let bottom = value(row, label: other), bottom != 0
        else {
            return nil
        }
        return top / bottom
    }

    /// The table as aligned text; only rows with at least one value are shown.
    public func render() -> String {
        let header = ["metric (median of runs)"] + labels + subjects.map { "\($0)/\(rival)" }
            + ["\(subject)/\(labels[0])", "runs"]
        var lines: [[String]] = [header]
        for row in rows where labels.contains(where: { value(row, label: $0) != nil }) {
            var cells = [row.title + (row.higherIsBetter ? " ↑" : " ↓")]
            for label in labels {
                cells.append(value(row, label: label).map { format($0, digits: row.digits) } ?? "-")
            }
            for subject in subjects {
                cells.append(ratio(row, over: rival, subject: subject).map { format($0, digits: 2) + "x" } ?? "-")
            }
            cells.append(row.minusDirect ? "-" : ratio(row, over: labels[0]).map { format($0, digits: 2) + "x" } ?? "-")
            cells.append(labels.map { String(runs(row, label: $0)) }.joined(separator: "/"))
            lines.append(cells)
        }
        let widths = header.indices.map { column in lines.map { $0[column].count }.max() ?? 0 }
        return lines.map { cells in
            cells.enumerated().map { column, cell in
                let pad = String(repeating: " ", count: widths[column] - cell.count)
                return column == 0 ? cell + pad : pad + cell
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    private func format(_ value: Double, digits: Int) -> String {
        String(format: "%.\(digits)f", value)
    }
}

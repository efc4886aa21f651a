import Histogram

/// Latencies in nanoseconds, kept in an HdrHistogram (3 significant digits, 1 ns to 100 s).
///
/// Not thread-safe: each connection or worker keeps its own on its event loop; they are merged at the end.
public struct LatencyRecorder: Sendable {
    private var histogram = Histogram<UInt64>(
        lowestDiscernibleValue: 1,
        highestTrackableValue: 100_000_000_000,
        numberOfSignificantValueDigits: .three
    )

    /// Creates an empty recorder.
    public init() {}

    /// Records one latency; values above the trackable range are clamped to it.
    public mutating func record(nanoseconds: Int64) {
        let value = UInt64(clamping: max(nanoseconds, 1))
        _ = histogram.record(min(value, histogram.highestTrackableValue))
    }

    /// Adds another recorder's values.
    public mutating func merge(_ other: LatencyRecorder) {
        histogram.add(other.histogram)
    }

    /// Number of recorded values.
    public var count: Int { Int(histogram.totalCount) }

    /// The value at `percentile` (0…100) in microseconds; 0 when empty.
    public func microseconds(atPercentile percentile: Double) -> Double {
        count == 0 ? 0 : Double(histogram.valueAtPercentile(percentile)) / 1_000
    }

    /// p50, p90, p99, p99.9, max and mean in microseconds, keyed as in the JSON result (`p50_us`, …).
    public var summary: [String: Double] {
        [
            "p50_us": microseconds(atPercentile: 50),
            "p90_us": microseconds(atPercentile: 90),
            "p99_us": microseconds(atPercentile: 99),
            "p999_us": microseconds(atPercentile: 99.9),
            "max_us": count == 0 ? 0 : Double(histogram.max) / 1_000,
            "mean_us": count == 0 ? 0 : histogram.mean / 1_000,
        ]
    }
}

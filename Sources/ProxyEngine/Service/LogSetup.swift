#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Logging
import NIOConcurrencyHelpers

/// Chooses where logs go: standard error, or a file (the console owns the terminal, so it logs to a file).
public enum LogSetup {
    private static let sinks = NIOLockedValueBox([LineSink]())

    /// Bootstraps swift-log once for the process.
    public static func bootstrap(level: String, file: String?) throws {
        let logLevel = Logger.Level(rawValue: level) ?? .info
        var descriptor = STDERR_FILENO
        if let file {
            let fd = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw EngineError.unsupported("cannot open log file \(file): \(String(cString: strerror(errno)))") }
            descriptor = fd
        }
        let sink = LineSink(descriptor: descriptor)
        sinks.withLockedValue { $0.append(sink) }
        LoggingSystem.bootstrap { label in
            var handler = LineLogHandler(label: label, sink: sink)
            handler.logLevel = logLevel
            return handler
        }
    }

    /// Writes out every line logged so far (call before the process exits); waits at most `timeout` seconds.
    public static func flush(timeout: Double = 2) {
        for sink in sinks.withLockedValue({ $0 }) { sink.flush(timeout: timeout) }
    }
}

/// Log lines are rendered and written by one background thread, in batches: whoever logs (an event loop, for the
/// per-connection lines at `info`) only appends the event to a queue. A queue that grows past `limit` (the disk
/// or the terminal stalls) drops lines and says how many, instead of holding up the proxy.
final class LineSink: @unchecked Sendable {
    // @unchecked: `queue`, `writing` and `dropped` are guarded by `lock`; the rest is only touched by the writer.
    struct Entry {
        var time: timespec
        var level: Logger.Level
        var label: String
        var message: Logger.Message
        var metadata: Logger.Metadata
    }

    private let lock = NIOLock()
    private let wake = DispatchSemaphore(value: 0)
    private var queue: [Entry] = []
    private var writing = false
    private var dropped = 0
    private let descriptor: Int32
    private let limit: Int
    /// The rendered timestamp of the last second seen (it changes once a second, not once a line).
    private var second: Int = -1
    private var secondText = ""

    /// How long the writer waits after the first line of a batch, in µs (log lines are at most this late).
    static let gather: UInt32 = 10_000

    init(descriptor: Int32, limit: Int = 100_000) {
        self.descriptor = descriptor
        self.limit = limit
        let thread = Thread { [unowned self] in self.run() }
        thread.name = "mqtt-proxy log writer"
        thread.start()
    }

    func enqueue(_ entry: Entry) {
        let signal = lock.withLock { () -> Bool in
            guard queue.count < limit else {
                dropped += 1
                return false
            }
            queue.append(entry)
            return queue.count == 1 && !writing
        }
        if signal { wake.signal() }
    }

    /// Waits until the queue is written out, or `timeout` seconds.
    func flush(timeout: Double) {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline, lock.withLock({ !queue.isEmpty || writing }) {
            wake.signal()
            usleep(2_000)
        }
    }

    private func run() {
        while true {
            wake.wait()
            // Let a batch gather before writing: at a high connection rate this thread then wakes about a hundred
            // times a second, not once or twice per connection (a wake-up costs the event loops a context switch).
            usleep(Self.gather)
            while true {
                let (batch, lost) = lock.withLock { () -> ([Entry], Int) in
                    defer {
                        queue.removeAll(keepingCapacity: true)
                        dropped = 0
                    }
                    writing = !queue.isEmpty || dropped > 0
                    return (queue, dropped)
                }
                guard !batch.isEmpty || lost > 0 else { break }
                var text = ""
                text.reserveCapacity(batch.count * 120)
                if lost > 0 { text += "\(timestamp(now())) warning mqtt-proxy: \(lost) log line(s) dropped (the log could not keep up)\n" }
                for entry in batch { render(entry, into: &text) }
                writeAll(text)
                lock.withLock { writing = false }
            }
        }
    }

    private func now() -> timespec {
        var t = timespec()
        clock_gettime(CLOCK_REALTIME, &t)
        return t
    }

    /// `2026-11-27T14:03:34Z info mqtt-proxy: message key=value …`
    private func render(_ e: Entry, into text: inout String) {
        text += timestamp(e.time)
        text += " \(e.level) \(e.label): \(e.message)"
        for (key, value) in e.metadata.sorted(by: { $0.key < $1.key }) { text += " \(key)=\(value)" }
        text += "\n"
    }

    private func timestamp(_ t: timespec) -> String {
        let s = Int(t.tv_sec)
        if s != second {
            var seconds = time_t(s)
            var parts = tm()
            gmtime_r(&seconds, &parts)
            secondText = String(format: "%04d-%02d-%02dT%02d:%02d:%02dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
                                Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
            second = s
        }
        return secondText
    }

    private func writeAll(_ text: String) {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                return
            }
            offset += n
        }
    }
}

/// Hands each event to the sink; nothing is formatted on the caller's thread.
struct LineLogHandler: LogHandler {
    let label: String
    let sink: LineSink
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var all = metadata
        if let extra = event.metadata { all.merge(extra) { _, new in new } }
        var t = timespec()
        clock_gettime(CLOCK_REALTIME, &t)
        sink.enqueue(.init(time: t, level: event.level, label: label, message: event.message, metadata: all))
    }
}

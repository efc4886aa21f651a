import Foundation
import Logging
@testable import ProxyEngine
import Testing

/// The log sink: lines rendered and written by its own thread, in order, timestamps per second, drops counted.
@Suite("Log sink")
struct LogSinkTests {
    /// A sink writing into a temp file (a pipe would fill up and stall the writer), and a way to read it.
    func fileSink(limit: Int = 100_000) -> (LineSink, () -> String) {
        let path = NSTemporaryDirectory() + "mqtt-proxy-log-\(UUID().uuidString)"
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        let sink = LineSink(descriptor: fd, limit: limit)
        return (sink, {
            defer { try? FileManager.default.removeItem(atPath: path) }
            return (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        })
    }

    @Test func linesArriveInOrderWithSortedMetadata() {
        let (sink, output) = fileSink()
        var handler = LineLogHandler(label: "mqtt-proxy", sink: sink)
        handler.metadata = ["route": "1", "client_id": "sensor-1"]
        let logger = Logger(label: "mqtt-proxy", factory: { _ in handler })
        for i in 0..<500 { logger.info("line \(i)", metadata: ["n": "\(i)"]) }
        sink.flush(timeout: 5)
        let lines = output().split(separator: "\n")
        #expect(lines.count == 500)
        #expect(lines.first?.hasSuffix("info mqtt-proxy: line 0 client_id=sensor-1 n=0 route=1") == true)
        #expect(lines.last?.contains("line 499 ") == true)
        let stamp = String(lines[0].prefix(20))
        #expect(stamp.count == 20 && stamp.hasSuffix("Z") && stamp.dropFirst(10).first == "T", "\(stamp)")
    }

    @Test func aFullQueueDropsLinesAndSaysHowMany() {
        let (sink, output) = fileSink(limit: 10)
        let logger = Logger(label: "mqtt-proxy", factory: { _ in LineLogHandler(label: "mqtt-proxy", sink: sink) })
        // Faster than one write can drain: some are dropped, and the sink says so.
        for i in 0..<20_000 { logger.info("burst \(i)") }
        sink.flush(timeout: 5)
        logger.info("after")
        sink.flush(timeout: 5)
        let text = output()
        let kept = text.split(separator: "\n").filter { $0.contains("burst ") }.count
        let notes = text.split(separator: "\n").filter { $0.contains("dropped") }
        #expect(kept < 20_000)
        #expect(!notes.isEmpty)
        let n = notes.compactMap { line in line.split(separator: " ").compactMap { Int($0) }.first }.reduce(0, +)
        #expect(kept + n == 20_000, "kept \(kept), dropped \(n)")
        #expect(text.hasSuffix("mqtt-proxy: after\n"))
    }
}

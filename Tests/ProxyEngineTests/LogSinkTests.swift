import Foundation
import Logging
@testable import ProxyEngine
import Testing

/// The log sink: lines rendered and written by its own thread, in order, timestamps per second, drops counted.
@Suite("Log sink")
struct LogSinkTests {
    /// A sink writing into a pipe, and a way to read what arrived.
    func pipeSink(limit: Int = 100_000) -> (LineSink, () -> String) {
        var fds: [Int32] = [0, 0]
        _ = pipe(&fds)
        _ = fcntl(fds[0], F_SETFL, O_NONBLOCK)
        let sink = LineSink(descriptor: fds[1], limit: limit)
        return (sink, {
            var out = [UInt8]()
            var chunk = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = read(fds[0], &chunk, chunk.count)
                if n <= 0 { break }
                out += chunk[0..<n]
            }
            return String(decoding: out, as: UTF8.self)
        })
    }

    @Test func linesArriveInOrderWithSortedMetadata() {
        let (sink, output) = pipeSink()
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
        let (sink, output) = pipeSink(limit: 10)
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

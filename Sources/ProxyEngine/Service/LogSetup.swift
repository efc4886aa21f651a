import Foundation
import Logging
import NIOConcurrencyHelpers

/// Chooses where logs go: standard error, or a file (the console owns the terminal, so it logs to a file).
public enum LogSetup {
    /// Bootstraps swift-log once for the process.
    public static func bootstrap(level: String, file: String?) throws {
        let logLevel = Logger.Level(rawValue: level) ?? .info
        var handle: FileHandle = .standardError
        if let file {
            if !FileManager.default.fileExists(atPath: file) {
                guard FileManager.default.createFile(atPath: file, contents: nil) else {
                    throw EngineError.unsupported("cannot create log file \(file)")
                }
            }
            guard let h = FileHandle(forWritingAtPath: file) else {
                throw EngineError.unsupported("cannot open log file \(file)")
            }
            h.seekToEndOfFile()
            handle = h
        }
        let sink = LineSink(handle: handle)
        LoggingSystem.bootstrap { label in
            var handler = LineLogHandler(label: label, sink: sink)
            handler.logLevel = logLevel
            return handler
        }
    }
}

/// Serialises whole log lines to one file handle.
final class LineSink: Sendable {
    private let lock = NIOLock()
    private let handle: FileHandle
    init(handle: FileHandle) { self.handle = handle }
    func write(_ line: String) {
        lock.withLock { handle.write(Data(line.utf8)) }
    }
}

/// `2026-11-27T14:03:34Z info mqtt-proxy: message key=value …` lines.
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
        let meta = all.sorted { $0.key < $1.key }.map { " \($0.key)=\($0.value)" }.joined()
        let time = ISO8601DateFormatter().string(from: Date())
        sink.write("\(time) \(event.level) \(label): \(event.message)\(meta)\n")
    }
}

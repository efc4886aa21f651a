import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import ProxyModel
import Synchronization

/// Why a call to another instance's admin API did not give an answer to use.
public enum AdminClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Nothing answered (refused, timed out, the stream broke).
    case unreachable(String)
    /// A stream stayed open but nothing came through it for too long (a frozen instance).
    case silent(String)
    /// It answered with an error status; `message` is its `error_msg` (or the body).
    case refused(status: Int, message: String)
    /// It answered something that is not the JSON expected.
    case malformed(String)

    public var description: String {
        switch self {
        case .unreachable(let m), .silent(let m): m
        case .refused(let status, let message): "\(status) \(message)"
        case .malformed(let m): m
        }
    }
}

/// One message of a server-sent event stream (`/v1/stream`): its `event:` name and its `data:` as JSON.
public struct AdminStreamMessage: Sendable {
    public var event: String
    public var data: JSONValue
}

/// A client of one instance's admin API (`http://host:9180`), with its admin key: JSON calls and the `/v1/stream`
/// event stream. It counts the bytes it receives, so a console can show what following the instance costs.
public final class AdminClient: Sendable {
    /// The base address, without a trailing slash.
    public let baseURL: String
    let key: String?
    let timeout: TimeAmount
    private let received = Atomic<Int>(0)

    /// One HTTP client for every admin client of the process (AsyncHTTPClient wants each one shut down; this one
    /// lives as long as the process).
    private static let http = HTTPClient(eventLoopGroupProvider: .singleton,
                                         configuration: .init(timeout: .init(connect: .seconds(3), read: nil)))

    /// `baseURL` is `http://host:port` (a bare `host:port` gets `http://`); `key` goes in `X-API-KEY`.
    public init(baseURL: String, key: String?, timeout: Double = 5) {
        var url = baseURL.contains("://") ? baseURL : "http://" + baseURL
        while url.hasSuffix("/") { url.removeLast() }
        self.baseURL = url
        self.key = key
        self.timeout = .nanoseconds(Int64(timeout * 1e9))
    }

    /// Bytes received from the instance so far (bodies and streams).
    public var bytesReceived: Int { received.load(ordering: .relaxed) }

    /// Calls `method path` with an optional JSON body; returns the status and the parsed body for any 2xx answer.
    /// Throws `.refused` with the instance's `error_msg` for any other status.
    public func call(_ method: HTTPMethod, _ path: String, body: JSONValue? = nil) async throws(AdminClientError)
        -> (status: Int, body: JSONValue)
    {
        let request = prepare(method, path, body: body)
        let status: Int
        let bytes: [UInt8]
        do {
            let response = try await Self.http.execute(request, timeout: timeout)
            status = Int(response.status.code)
            let buffer = try await response.body.collect(upTo: 256 * 1024 * 1024)
            bytes = Array(buffer.readableBytesView)
        } catch {
            throw .unreachable("\(baseURL): \(Self.describe(error))")
        }
        received.add(bytes.count, ordering: .relaxed)
        let parsed = bytes.isEmpty ? JSONValue.null : (try? JSONParser.parse(bytes))
        guard (200..<300).contains(status) else {
            let message = parsed?["error_msg"]?.stringValue ?? parsed?["message"]?.stringValue
                ?? String(decoding: bytes.prefix(200), as: UTF8.self)
            let detail = parsed?["description"]?.stringValue.map { ": \($0)" } ?? ""
            throw .refused(status: status, message: message + detail)
        }
        guard let parsed else { throw .malformed("\(baseURL)\(path): the answer is not JSON") }
        return (status, parsed)
    }

    /// Follows a server-sent event stream, handing each message to `onMessage` in order until it returns false,
    /// the stream ends (`.unreachable`), or nothing, not even a keep-alive, came for `silence` seconds.
    public func stream(_ path: String, silence: Double,
                       onMessage: @escaping @Sendable (AdminStreamMessage) async -> Bool) async throws(AdminClientError)
    {
        let request = prepare(.GET, path, body: nil)
        let lastHeard = Clock()
        let base = baseURL
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { [self] in
                    let response = try await Self.http.execute(request, timeout: .hours(24))
                    guard response.status.code == 200 else {
                        let body = try? await response.body.collect(upTo: 64 * 1024)
                        let text = body.map { String(buffer: $0) } ?? ""
                        let parsed = try? JSONParser.parse(Array(text.utf8))
                        throw AdminClientError.refused(status: Int(response.status.code),
                                                       message: parsed?["error_msg"]?.stringValue ?? text)
                    }
                    var parser = EventStreamParser()
                    for try await chunk in response.body {
                        received.add(chunk.readableBytes, ordering: .relaxed)
                        lastHeard.touch()
                        for message in parser.feed(chunk) {
                            guard await onMessage(message) else { return }
                        }
                    }
                    throw AdminClientError.unreachable("\(base)\(path): the stream ended")
                }
                group.addTask {
                    // The watchdog: a frozen instance keeps its socket open and says nothing.
                    while true {
                        try await Task.sleep(nanoseconds: 1_000_000_000)
                        let quiet = lastHeard.secondsSince()
                        if quiet > silence {
                            throw AdminClientError.silent("\(base): no answer for \(Int(quiet)) s")
                        }
                    }
                }
                try await group.next()
                group.cancelAll()
            }
        } catch let error as AdminClientError {
            throw error
        } catch is CancellationError {
            return
        } catch {
            throw .unreachable("\(baseURL): \(Self.describe(error))")
        }
    }

    private func prepare(_ method: HTTPMethod, _ path: String, body: JSONValue?) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        if let key { request.headers.add(name: "X-API-KEY", value: key) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body.jsonText))
        }
        return request
    }

    /// "connection refused" rather than a type dump.
    static func describe(_ error: any Error) -> String {
        let text = String(describing: error)
        if text.contains("connectTimeout") || text.contains("deadlineExceeded") { return "timed out" }
        if text.contains("refused") || text.contains("ECONNREFUSED") { return "connection refused" }
        if text.contains("remoteConnectionClosed") || text.contains("ioOnClosedChannel") || text.contains("unexpected time")
            || text.contains("ECONNRESET")
        {
            return "connection closed"
        }
        return text
    }
}

/// When something was last heard, shared by the stream's reader and its watchdog.
private final class Clock: Sendable {
    private let last = Atomic<UInt64>(DispatchTime.now().uptimeNanoseconds)

    func touch() { last.store(DispatchTime.now().uptimeNanoseconds, ordering: .relaxed) }

    func secondsSince() -> Double {
        Double(DispatchTime.now().uptimeNanoseconds &- last.load(ordering: .relaxed)) / 1e9
    }
}

/// Splits a server-sent event stream into messages: `event:` and `data:` lines, a blank line ending each; comments
/// (`: keep-alive`) come as messages named `comment` (a sign of life). Data that is not JSON is kept as a string.
struct EventStreamParser {
    private var pending: [UInt8] = []
    private var event = "message"
    private var data: [String] = []

    mutating func feed(_ chunk: ByteBuffer) -> [AdminStreamMessage] {
        pending.append(contentsOf: chunk.readableBytesView)
        var out: [AdminStreamMessage] = []
        var start = 0
        while let newline = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
            var line = pending[start..<newline]
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            start = newline + 1
            if line.isEmpty {
                if !data.isEmpty {
                    let text = data.joined(separator: "\n")
                    let json = (try? JSONParser.parse(Array(text.utf8))) ?? .string(text)
                    out.append(AdminStreamMessage(event: event, data: json))
                }
                event = "message"
                data = []
            } else if line.first == UInt8(ascii: ":") {
                let text = String(decoding: line.dropFirst(), as: UTF8.self).trimmingCharacters(in: .whitespaces)
                out.append(AdminStreamMessage(event: "comment", data: .string(text)))
            } else {
                let text = String(decoding: line, as: UTF8.self)
                let (field, value) = Self.split(text)
                if field == "event" { event = value }
                if field == "data" { data.append(value) }
            }
        }
        pending.removeFirst(start)
        return out
    }

    static func split(_ line: String) -> (String, String) {
        guard let colon = line.firstIndex(of: ":") else { return (line, "") }
        var value = line[line.index(after: colon)...]
        if value.first == " " { value = value.dropFirst() }
        return (String(line[..<colon]), String(value))
    }
}

import AsyncHTTPClient
import Foundation
import NIOCore
import ProxyModel

/// One message of a watch stream.
public struct EtcdWatchMessage: Sendable {
    /// The store revision when etcd sent it (absent on a cancel for compaction).
    public var revision: Int?
    public var created: Bool
    public var canceled: Bool
    /// Set when the watch was cancelled because its start revision was compacted.
    public var compactRevision: Int?
    public var cancelReason: String?
    public var events: [EtcdEvent]
}

extension EtcdClient {
    /// Watches every key under `prefix` from `revision` on, handing each message to `onMessage` in order, for at
    /// most `maxDuration` or until `onMessage` returns false (then it returns, and the caller watches again from the
    /// last revision it saw). Throws
    /// when the stream breaks or etcd cancels the watch (`.compacted` when the start revision is gone).
    public func watch(prefix: String, from revision: Int, maxDuration: TimeAmount,
                      onMessage: @escaping @Sendable (EtcdWatchMessage) async -> Bool) async throws(EtcdError)
    {
        let create: JSONValue = ["create_request": [
            "key": .string(Self.b64(prefix)), "range_end": .string(Self.b64(Self.rangeEnd(prefix))),
            "start_revision": .int(revision),
        ]]
        let url = currentEndpoint + "/v3/watch"
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        if let token = try await token(for: url) { request.headers.add(name: "Authorization", value: token) }
        request.body = .bytes(ByteBuffer(string: create.jsonText))
        let (http, timeout, prepared) = (self.http, self.timeout, request)
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    let response = try await http.execute(prepared, timeout: timeout)
                    guard response.status.code == 200 else {
                        let body = try? await response.body.collect(upTo: 1024 * 1024)
                        throw EtcdError.server(status: Int(response.status.code), code: nil,
                                               message: body.map { String(buffer: $0) } ?? "watch refused")
                    }
                    var pending = ByteBuffer()
                    for try await chunk in response.body {
                        var chunk = chunk
                        pending.writeBuffer(&chunk)
                        // One JSON object per line.
                        while let newline = pending.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
                            let length = newline - pending.readerIndex
                            let line = pending.readBytes(length: length) ?? []
                            pending.moveReaderIndex(forwardBy: 1)
                            guard !line.isEmpty else { continue }
                            let message = try EtcdClient.watchMessage(line)
                            if message.canceled {
                                if let compacted = message.compactRevision { throw EtcdError.compacted(compactRevision: compacted) }
                                throw EtcdError.server(status: 200, code: nil, message: "watch cancelled: \(message.cancelReason ?? "no reason given")")
                            }
                            guard await onMessage(message) else { return }
                        }
                        pending.discardReadBytes()
                    }
                    throw EtcdError.unreachable("\(url): the watch stream ended")
                }
                group.addTask {
                    try await Task.sleep(nanoseconds: UInt64(max(0, maxDuration.nanoseconds)))
                }
                // Whichever ends first: the stream (an error) or the time limit (normal end).
                try await group.next()
                group.cancelAll()
            }
        } catch let error as EtcdError {
            throw error
        } catch is CancellationError {
            return
        } catch {
            throw .unreachable("\(url): \(error)")
        }
    }

    static func watchMessage(_ line: [UInt8]) throws -> EtcdWatchMessage {
        guard let json = try? JSONParser.parse(line) else {
            throw EtcdError.malformed("a watch line that is not JSON: \(String(decoding: line.prefix(200), as: UTF8.self))")
        }
        if let error = json["error"], error != .null {
            throw EtcdError.server(status: error["http_code"]?.intValue ?? 500, code: error["grpc_code"]?.intValue,
                                   message: error["message"]?.stringValue ?? "watch error")
        }
        let result = json["result"] ?? .null
        let events = try (result["events"]?.arrayValue ?? []).map { item -> EtcdEvent in
            let kind: EtcdEvent.Kind = item["type"]?.stringValue == "DELETE" ? .delete : .put
            return EtcdEvent(kind: kind, kv: try EtcdClient.kv(item["kv"] ?? .null))
        }
        return EtcdWatchMessage(
            revision: result["header"]?["revision"]?.stringValue.flatMap { Int($0) },
            created: result["created"]?.boolValue ?? false, canceled: result["canceled"]?.boolValue ?? false,
            compactRevision: result["compact_revision"]?.stringValue.flatMap { Int($0) },
            cancelReason: result["cancel_reason"]?.stringValue, events: events)
    }
}

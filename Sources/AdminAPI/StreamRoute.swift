import Foundation
import Hummingbird
import ProxyControl
import ProxyModel
import ServiceLifecycle

/// `GET /v1/stream`: server-sent events for a console or a script that follows an instance without polling every
/// view. The first message (`hello`) carries the snapshot version and the newest event's sequence; then, whenever
/// the engine's snapshot version moves, one `change` message with the new version, the open connection count and
/// the events recorded since the last message — at most two messages a second however busy the instance is, so
/// a follower costs the instance a bounded amount. Idle streams get a comment every 15 s (proxies keep them open).
/// `since=N` starts after event N; `events=N` sends at most N events per message (0: only versions and counts,
/// for a follower that does not show the log); `max_messages=N` ends the stream after N messages (scripts, tests);
/// `connections=ids` adds the ids of the connections `opened` and `closed` since the last message (at most
/// `maxIDs` each; past that `connections_resync: true` says to read the whole list again), so a follower keeps its
/// copy of the connection list without reading it whole.
struct StreamRoute: Sendable {
    let engine: any EngineControl

    /// Shortest time between two `change` messages.
    static let minInterval = 0.5
    /// Events per message at most; the count of those left out is sent as `events_dropped`.
    static let maxEvents = 500
    static let keepAlive = 15.0
    /// Opened or closed connection ids per message at most.
    static let maxIDs = 1000

    func register(on router: Router<AdminContext>) {
        router.get("/v1/stream") { request, _ in try stream(request) }
    }

    func stream(_ request: Request) throws -> Response {
        let q = request.uri.queryParameters
        var since: Int?
        if let s = q.get("since") {
            guard let n = Int(s), n >= 0 else { throw AdminError(.badRequest, "invalid since: must be an integer ≥ 0") }
            since = n
        }
        var limit = Int.max
        if let s = q.get("max_messages") {
            guard let n = Int(s), n > 0 else {
                throw AdminError(.badRequest, "invalid max_messages: must be an integer ≥ 1")
            }
            limit = n
        }
        var perMessage = Self.maxEvents
        if let s = q.get("events") {
            guard let n = Int(s), (0...Self.maxEvents).contains(n) else {
                throw AdminError(.badRequest, "invalid events: must be an integer from 0 to \(Self.maxEvents)")
            }
            perMessage = n
        }
        var followIDs = false
        if let s = q.get("connections") {
            guard s == "ids" else { throw AdminError(.badRequest, "invalid connections: the only value is ids") }
            followIDs = true
        }
        let engine = self.engine
        let (start, limitCount, eventCount, withIDs) = (since, limit, perMessage, followIDs)
        let body = ResponseBody { writer in
            // Summaries only: a stream costs the instance no walk over its connections, and their ids only when asked.
            var snapshot = engine.summary(eventsAfter: .max)
            var last = start ?? snapshot.lastEventSequence
            var version = snapshot.version
            var known = withIDs ? Set(engine.connectionIDs()) : []
            try await writer.write(Self.message("hello", ["version": .int(version), "next": .int(last)]))
            var sent = 1
            var quietSince = Date()
            while sent < limitCount, !Task.isCancelled, !Task.isShuttingDownGracefully {
                let now = await engine.nextVersion(after: version, timeout: 1)
                if now == version {
                    if Date().timeIntervalSince(quietSince) >= Self.keepAlive {
                        try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                        quietSince = Date()
                    }
                    continue
                }
                snapshot = engine.summary(eventsAfter: last)
                version = snapshot.version
                let fresh = snapshot.events
                last = fresh.last?.sequence ?? last
                let shown = fresh.suffix(eventCount)
                var body: JSONValue = [
                    "version": .int(version), "open_connections": .int(snapshot.openConnections),
                    "events": .array(shown.map(SnapshotJSON.event)), "events_dropped": .int(fresh.count - shown.count),
                    "next": .int(last),
                ]
                if withIDs {
                    let current = Set(engine.connectionIDs())
                    let opened = current.subtracting(known).sorted()
                    let closed = known.subtracting(current).sorted()
                    known = current
                    if opened.count > Self.maxIDs || closed.count > Self.maxIDs {
                        body["connections_resync"] = true
                    } else {
                        body["opened"] = .array(opened.map { .int(Int($0)) })
                        body["closed"] = .array(closed.map { .int(Int($0)) })
                    }
                }
                try await writer.write(Self.message("change", body))
                sent += 1
                quietSince = Date()
                try? await Task.sleep(nanoseconds: UInt64(Self.minInterval * 1e9))
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
                        body: body)
    }

    static func message(_ event: String, _ data: JSONValue) -> ByteBuffer {
        ByteBuffer(string: "event: \(event)\ndata: \(data.jsonText)\n\n")
    }
}

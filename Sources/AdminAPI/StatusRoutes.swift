import Foundation
import Hummingbird
import ProxyControl
import ProxyModel
import RouteStore

/// Our own live-status API under `/v1/` (keys documented in the README; they are stable). The JSON forms are
/// `SnapshotJSON`'s, which an attached console reads back.
struct StatusRoutes: Sendable {
    let engine: any EngineControl
    let store: any RouteStore
    /// This instance's `instance_id`, for `/v1/summary`.
    let instanceID: String?

    func register(on router: Router<AdminContext>) {
        router.get("/v1/connections") { request, _ in try connections(request) }
        router.delete("/v1/connections/:id") { _, context in try await disconnect(context) }
        router.get("/v1/mappings") { request, _ in mappings(request) }
        router.get("/v1/routes/stats") { _, _ in routeStats() }
        router.get("/v1/events") { request, _ in try events(request) }
        router.get("/v1/summary") { _, context in await summary(context) }
    }

    /// The relayed connections; `route`, `node` and `client_id` (a prefix) filter them, `after_id=N` keeps those
    /// with a larger id (new since a follower's last look: ids only grow), `ids=1,2,3` keeps those listed.
    func connections(_ request: Request) throws -> Response {
        let q = request.uri.queryParameters
        let now = Date().timeIntervalSince1970
        var wanted: Set<UInt64>?
        if let text = q.get("ids") {
            let ids = text.split(separator: ",").map { UInt64($0) }
            guard !ids.contains(nil) else {
                throw AdminError(.badRequest, "invalid ids: expected connection ids separated by commas")
            }
            wanted = Set(ids.compactMap { $0 })
        }
        // Listed ids touch only those connections (a follower's question twice a second on a busy instance).
        var conns = wanted.map { engine.connections(ids: $0) } ?? engine.snapshot().connections
        if let route = q.get("route") { conns = conns.filter { $0.routeID == route } }
        if let node = q.get("node") { conns = conns.filter { $0.node == node } }
        if let prefix = q.get("client_id") { conns = conns.filter { $0.clientID?.hasPrefix(prefix) == true } }
        if let text = q.get("after_id") {
            guard let after = UInt64(text) else { throw AdminError(.badRequest, "invalid after_id: must be an integer ≥ 0") }
            conns = conns.filter { $0.id > after }
        }
        let items = conns.map { SnapshotJSON.connection($0, now: now) }
        return JSONResponse.make(.ok, ["connections": .array(items), "total": .int(items.count)])
    }

    /// `DELETE /v1/connections/{id}`: closes one relayed connection, both sides (the console's `x`).
    func disconnect(_ context: AdminContext) async throws -> Response {
        guard let text = context.parameters.get("id"), let id = UInt64(text) else {
            throw AdminError(.badRequest, "invalid id: expected a connection id (an integer)")
        }
        guard await engine.disconnect(connectionID: id) else {
            throw AdminError(.notFound, "no live connection has id \(id)")
        }
        return JSONResponse.make(.ok, ["disconnected": .int(Int(id))])
    }

    func mappings(_ request: Request) -> Response {
        var conns = engine.snapshot().connections
        if let route = request.uri.queryParameters.get("route") { conns = conns.filter { $0.routeID == route } }
        var perNode: [String: Int] = [:]
        for c in conns { perNode[c.node, default: 0] += 1 }
        let items: [JSONValue] = conns.map { c in
            ["client_id": c.clientID.map(JSONValue.string) ?? .null, "remote_addr": .string(c.remoteAddress),
             "route_id": .string(c.routeID), "node": .string(c.node)]
        }
        let nodes = JSONValue.object(.init(uniqueKeysWithValues: perNode.sorted { $0.key < $1.key }
            .map { ($0.key, JSONValue.int($0.value)) }))
        return JSONResponse.make(.ok, ["mappings": .array(items), "nodes": nodes, "total": .int(items.count)])
    }

    func routeStats() -> Response {
        let snap = engine.snapshot()
        return JSONResponse.make(.ok, [
            "routes": .array(snap.routes.map(SnapshotJSON.route)), "nodes": .array(snap.nodes.map(SnapshotJSON.node)),
            "pending": .int(snap.pending), "accepted": .int(snap.totalAccepted), "rejected": .int(snap.totalRejected),
            "rejected_by_reason": SnapshotJSON.counts(snap.rejectedByReason),
            "tls_handshakes": .int(snap.tlsHandshakes), "preread_bytes": .int(snap.prereadBytes),
            "open_connections": .int(snap.openConnections), "max_connections": .int(snap.connectionLimit),
            "descriptor_limit": .int(snap.descriptorLimit),
            "listeners": .array(snap.listeners.map(JSONValue.string)),
            "uptime_seconds": .double(SnapshotJSON.rounded(snap.takenAt - snap.startedAt, places: 3)),
        ])
    }

    func events(_ request: Request) throws -> Response {
        var since = 0
        if let s = request.uri.queryParameters.get("since") {
            guard let n = Int(s), n >= 0 else { throw AdminError(.badRequest, "invalid since: must be an integer ≥ 0") }
            since = n
        }
        let events = engine.snapshot().events.filter { $0.sequence > since }
        return JSONResponse.make(.ok, ["events": .array(events.map(SnapshotJSON.event)),
                                       "next": .int(events.last?.sequence ?? since)])
    }

    /// `/v1/summary`: everything but the connection list and the events (a few KB however busy the instance is),
    /// with who this instance is, the store's revision and the role of the key that asked.
    func summary(_ context: AdminContext) async -> Response {
        var body = SnapshotJSON.summary(engine.summary(eventsAfter: .max))
        body["instance"] = [
            "id": instanceID.map(JSONValue.string) ?? .null,
            "hostname": .string(ProcessInfo.processInfo.hostName), "version": .string(ProductVersion.current),
            "role": context.role.map(JSONValue.string) ?? .null,
        ]
        body["store"] = SnapshotJSON.store(await store.status())
        body["store_revision"] = .int(await store.snapshot().revision)
        return JSONResponse.make(.ok, body)
    }
}

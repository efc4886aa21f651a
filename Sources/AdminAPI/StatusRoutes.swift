import Foundation
import Hummingbird
import ProxyControl
import ProxyModel

/// Our own live-status API under `/v1/` (keys documented in the README; they are stable).
struct StatusRoutes: Sendable {
    let engine: any EngineControl

    func register(on router: Router<AdminContext>) {
        router.get("/v1/connections") { request, _ in connections(request) }
        router.get("/v1/mappings") { request, _ in mappings(request) }
        router.get("/v1/routes/stats") { _, _ in routeStats() }
        router.get("/v1/events") { request, _ in try events(request) }
    }

    func connections(_ request: Request) -> Response {
        let q = request.uri.queryParameters
        let now = Date().timeIntervalSince1970
        var conns = engine.snapshot().connections
        if let route = q.get("route") { conns = conns.filter { $0.routeID == route } }
        if let node = q.get("node") { conns = conns.filter { $0.node == node } }
        if let prefix = q.get("client_id") { conns = conns.filter { $0.clientID?.hasPrefix(prefix) == true } }
        let items: [JSONValue] = conns.map { c in
            [
                "id": .int(Int(c.id)), "client_id": c.clientID.map(JSONValue.string) ?? .null,
                "username": c.username.map(JSONValue.string) ?? .null,
                "protocol_level": c.protocolLevel.map(JSONValue.int) ?? .null,
                "keep_alive": c.keepAlive.map(JSONValue.int) ?? .null,
                "clean_start": c.cleanStart.map(JSONValue.bool) ?? .null,
                "remote_addr": .string(c.remoteAddress), "remote_port": .int(c.remotePort),
                "server_addr": .string(c.localAddress), "server_port": .int(c.localPort),
                "route_id": .string(c.routeID), "node": .string(c.node),
                "hash_key": c.hashKey.map(JSONValue.string) ?? .null,
                "ring_point": c.ringPoint.map(JSONValue.int) ?? .null,
                "attempts": .int(c.attempts), "started_at": .double(c.startedAt),
                "age_seconds": .double((now - c.startedAt).rounded(toPlaces: 3)),
                "bytes_in": .int(c.bytesIn), "bytes_out": .int(c.bytesOut),
                "tls": c.tls.map(StatusRoutes.tlsJSON) ?? .null,
                "idle_limit": .double(c.idleLimit), "via": c.via.map(JSONValue.string) ?? .null,
                "broker_connack": c.brokerConnack.map(JSONValue.int) ?? .null,
            ]
        }
        return JSONResponse.make(.ok, ["connections": .array(items), "total": .int(items.count)])
    }

    /// A connection's TLS details: `{version, sni, ssl_id, client_cn, client_sans, client_subject}`.
    static func tlsJSON(_ t: TLSDetails) -> JSONValue {
        [
            "version": .string(t.version), "sni": t.sni.map(JSONValue.string) ?? .null,
            "ssl_id": t.sslID.map(JSONValue.string) ?? .null, "client_cn": t.clientCN.map(JSONValue.string) ?? .null,
            "client_sans": .array(t.clientSANs.map(JSONValue.string)),
            "client_subject": t.clientSubject.map(JSONValue.string) ?? .null,
        ]
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
        let routes: [JSONValue] = snap.routes.map { r in
            [
                "route_id": .string(r.routeID), "active": .int(r.active), "total": .int(r.total),
                "rejected": .object(.init(uniqueKeysWithValues: r.rejected.sorted { $0.key.rawValue < $1.key.rawValue }
                    .map { ($0.key.rawValue, JSONValue.int($0.value)) })),
                "bytes_in": .int(r.bytesIn), "bytes_out": .int(r.bytesOut),
                "connect_failures": .int(r.connectFailures), "disconnects": StatusRoutes.causes(r.disconnects),
            ]
        }
        let nodes: [JSONValue] = snap.nodes.map { n in
            ["node": .string(n.node), "active": .int(n.active), "total": .int(n.total), "bytes_in": .int(n.bytesIn),
             "bytes_out": .int(n.bytesOut), "connect_failures": .int(n.connectFailures), "failing": .bool(n.failing),
             "disconnects": StatusRoutes.causes(n.disconnects),
             "broker_connacks": .object(.init(uniqueKeysWithValues: n.connacks.sorted { $0.key < $1.key }
                 .map { (ConnackLabel.text($0.key), JSONValue.int($0.value)) }))]
        }
        return JSONResponse.make(.ok, [
            "routes": .array(routes), "nodes": .array(nodes), "pending": .int(snap.pending),
            "accepted": .int(snap.totalAccepted), "rejected": .int(snap.totalRejected),
            "rejected_by_reason": .object(.init(uniqueKeysWithValues: snap.rejectedByReason
                .sorted { $0.key.rawValue < $1.key.rawValue }.map { ($0.key.rawValue, JSONValue.int($0.value)) })),
            "tls_handshakes": .int(snap.tlsHandshakes), "preread_bytes": .int(snap.prereadBytes),
            "open_connections": .int(snap.openConnections), "max_connections": .int(snap.connectionLimit),
            "descriptor_limit": .int(snap.descriptorLimit),
            "listeners": .array(snap.listeners.map(JSONValue.string)),
            "uptime_seconds": .double((snap.takenAt - snap.startedAt).rounded(toPlaces: 3)),
        ])
    }

    /// `{cause: count}` for the causes seen.
    static func causes(_ counts: [DisconnectCause: Int]) -> JSONValue {
        .object(.init(uniqueKeysWithValues: counts.sorted { $0.key.rawValue < $1.key.rawValue }
            .map { ($0.key.rawValue, JSONValue.int($0.value)) }))
    }

    func events(_ request: Request) throws -> Response {
        var since = 0
        if let s = request.uri.queryParameters.get("since") {
            guard let n = Int(s), n >= 0 else { throw AdminError(.badRequest, "invalid since: must be an integer ≥ 0") }
            since = n
        }
        let events = engine.snapshot().events.filter { $0.sequence > since }
        let items = events.map(EventJSON.encode)
        return JSONResponse.make(.ok, ["events": .array(items), "next": .int(events.last?.sequence ?? since)])
    }
}

/// JSON form of a rebalance preview (dry-run answers).
enum RebalanceJSON {
    static func encode(_ p: RebalancePreview) -> JSONValue {
        [
            "connected": .int(p.considered), "moving": .int(p.moves.count),
            "flows": .array(p.flows.map { f in
                ["route_id": .string(f.routeID), "from": .string(f.from), "to": f.to.map(JSONValue.string) ?? .null,
                 "count": .int(f.count)]
            }),
            "moves": .array(p.moves.map { m in
                ["client_id": m.clientID.map(JSONValue.string) ?? .null, "hash_key": .string(m.hashKey),
                 "route_id": .string(m.routeID), "from": .string(m.from), "to": m.to.map(JSONValue.string) ?? .null]
            }),
        ]
    }
}

extension Double {
    func rounded(toPlaces places: Int) -> Double {
        let f = Foundation.pow(10.0, Double(places))
        return (self * f).rounded() / f
    }
}

import Foundation
import ProxyModel
import RouteStore

/// The one JSON form of the engine's pictures: the admin API writes them with these encoders, and an attached
/// console reads them back with the decoders beside them (`SnapshotJSON+Decode.swift`), so both sides agree on
/// every key.
public enum SnapshotJSON {
    /// One relayed connection as `/v1/connections` lists it; `now` gives `age_seconds`.
    public static func connection(_ c: ConnectionInfo, now: Double) -> JSONValue {
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
            "age_seconds": .double(rounded(now - c.startedAt, places: 3)),
            "bytes_in": .int(c.bytesIn), "bytes_out": .int(c.bytesOut),
            "tls": c.tls.map(tls) ?? .null,
            "idle_limit": .double(c.idleLimit), "via": c.via.map(JSONValue.string) ?? .null,
            "broker_connack": c.brokerConnack.map(JSONValue.int) ?? .null,
        ]
    }

    /// A connection's TLS details: `{version, sni, ssl_id, client_cn, client_sans, client_subject}`.
    public static func tls(_ t: TLSDetails) -> JSONValue {
        [
            "version": .string(t.version), "sni": t.sni.map(JSONValue.string) ?? .null,
            "ssl_id": t.sslID.map(JSONValue.string) ?? .null, "client_cn": t.clientCN.map(JSONValue.string) ?? .null,
            "client_sans": .array(t.clientSANs.map(JSONValue.string)),
            "client_subject": t.clientSubject.map(JSONValue.string) ?? .null,
        ]
    }

    /// One route's counters as `/v1/routes/stats` lists them.
    public static func route(_ r: RouteStats) -> JSONValue {
        [
            "route_id": .string(r.routeID), "active": .int(r.active), "total": .int(r.total),
            "rejected": counts(r.rejected), "bytes_in": .int(r.bytesIn), "bytes_out": .int(r.bytesOut),
            "connect_failures": .int(r.connectFailures), "disconnects": counts(r.disconnects),
        ]
    }

    /// One node's counters as `/v1/routes/stats` lists them (CONNACK codes keyed `0x05`).
    public static func node(_ n: NodeStats) -> JSONValue {
        [
            "node": .string(n.node), "active": .int(n.active), "total": .int(n.total), "bytes_in": .int(n.bytesIn),
            "bytes_out": .int(n.bytesOut), "connect_failures": .int(n.connectFailures), "failing": .bool(n.failing),
            "disconnects": counts(n.disconnects),
            "broker_connacks": .object(.init(uniqueKeysWithValues: n.connacks.sorted { $0.key < $1.key }
                .map { (ConnackLabel.text($0.key), JSONValue.int($0.value)) })),
        ]
    }

    /// `{reason: count}` for the reasons (or causes) seen, in name order.
    public static func counts<Reason: RawRepresentable<String>>(_ counts: [Reason: Int]) -> JSONValue {
        .object(.init(uniqueKeysWithValues: counts.sorted { $0.key.rawValue < $1.key.rawValue }
            .map { ($0.key.rawValue, JSONValue.int($0.value)) }))
    }

    /// One node's health and drain as `/v1/nodes` shows it.
    public static func health(_ n: NodeHealth) -> JSONValue {
        [
            "node": .string(n.node), "healthy": .bool(n.healthy), "state": .string(n.state),
            "reason": n.reason.map(JSONValue.string) ?? .null, "since": n.since.map { .int(Int($0)) } ?? .null,
            "check": n.checkType.map(JSONValue.string) ?? .null, "draining": .bool(n.draining),
            "checked": .bool(n.checked),
            "drain": n.drain.map { d in
                [
                    "evict_per_second": d.evictPerSecond.map(JSONValue.double) ?? .null,
                    "server_reference": d.serverReference.map(JSONValue.string) ?? .null,
                    "since": .int(Int(d.since)), "evicted": .int(d.evicted),
                ]
            } ?? .null,
            "active": .int(n.active), "upstreams": .array(n.upstreams.map(JSONValue.string)),
        ]
    }

    /// An engine event as `/v1/events` and `/v1/stream` show it.
    public static func event(_ e: EngineEvent) -> JSONValue {
        [
            "sequence": .int(e.sequence), "time": .double(e.time), "kind": .string(e.kind.rawValue),
            "route_id": e.routeID.map(JSONValue.string) ?? .null,
            "client_id": e.clientID.map(JSONValue.string) ?? .null,
            "remote_addr": e.remote.map(JSONValue.string) ?? .null,
            "node": e.node.map(JSONValue.string) ?? .null, "message": .string(e.message),
            "connection_id": e.connectionID.map { .int(Int($0)) } ?? .null,
        ]
    }

    /// A store status as `/v1/store` shows it.
    public static func store(_ s: StoreStatus) -> JSONValue {
        [
            "provider": .string(s.provider), "location": .string(s.location), "reachable": .bool(s.reachable),
            "since": .int(Int(s.since)), "last_error": s.lastError.map(JSONValue.string) ?? .null,
            "source_revision": s.sourceRevision.map(JSONValue.int) ?? .null, "from_cache": .bool(s.fromCache),
        ]
    }

    /// A rebalance preview as dry runs answer it.
    public static func rebalance(_ p: RebalancePreview) -> JSONValue {
        [
            "connected": .int(p.considered), "moving": .int(p.moves.count),
            "flows": .array(p.flows.map { f in
                ["route_id": .string(f.routeID), "from": .string(f.from), "to": f.to.map(JSONValue.string) ?? .null,
                 "count": .int(f.count)]
            }),
            "moves": .array(p.moves.map { m in
                ["client_id": m.clientID.map(JSONValue.string) ?? .null, "hash_key": .string(m.hashKey),
                 "route_id": .string(m.routeID), "from": .string(m.from), "to": m.to.map(JSONValue.string) ?? .null,
                 "connection_id": .int(Int(m.connectionID))]
            }),
        ]
    }

    /// Everything of a snapshot but its connections and events (`/v1/summary`): small whatever the load, so a
    /// follower can read it on every change.
    public static func summary(_ s: EngineSnapshot) -> JSONValue {
        [
            "snapshot_version": .int(s.version), "taken_at": .double(s.takenAt), "started_at": .double(s.startedAt),
            "listeners": .array(s.listeners.map(JSONValue.string)),
            "routes": .array(s.routes.map(route)), "nodes": .array(s.nodes.map(node)),
            "health": .array(s.health.map(health)),
            "pending": .int(s.pending), "accepted": .int(s.totalAccepted), "rejected": .int(s.totalRejected),
            "rejected_by_reason": counts(s.rejectedByReason), "tls_handshakes": .int(s.tlsHandshakes),
            "preread_bytes": .int(s.prereadBytes), "drain_timeout": .double(s.drainTimeout),
            "open_connections": .int(s.openConnections), "relayed": .int(s.relayed),
            "max_connections": .int(s.connectionLimit), "descriptor_limit": .int(s.descriptorLimit),
            "store": s.store.map(store) ?? .null,
            "next_event": .int(s.lastEventSequence),
        ]
    }

    /// `value` rounded to `places` decimals (ages and uptimes).
    public static func rounded(_ value: Double, places: Int) -> Double {
        let f = Foundation.pow(10.0, Double(places))
        return (value * f).rounded() / f
    }
}

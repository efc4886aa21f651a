import ProxyModel
import RouteStore

/// Reading back what the encoders wrote (an attached console follows an instance through its admin API). A missing
/// required key makes the whole value unreadable (nil); optional keys may be absent or null.
extension SnapshotJSON {
    public static func decodeConnection(_ j: JSONValue) -> ConnectionInfo? {
        guard let id = j["id"]?.intValue, let remote = j["remote_addr"]?.stringValue,
              let routeID = j["route_id"]?.stringValue, let node = j["node"]?.stringValue
        else { return nil }
        var c = ConnectionInfo(
            id: UInt64(id), clientID: string(j, "client_id"), username: string(j, "username"),
            protocolLevel: j["protocol_level"]?.intValue, keepAlive: j["keep_alive"]?.intValue,
            cleanStart: j["clean_start"]?.boolValue, remoteAddress: remote, remotePort: int(j, "remote_port"),
            localAddress: string(j, "server_addr") ?? "", localPort: int(j, "server_port"), routeID: routeID, node: node,
            hashKey: string(j, "hash_key"), ringPoint: j["ring_point"]?.intValue, attempts: int(j, "attempts"),
            startedAt: double(j, "started_at"), bytesIn: int(j, "bytes_in"), bytesOut: int(j, "bytes_out"),
            tls: j["tls"].flatMap(decodeTLS))
        c.idleLimit = double(j, "idle_limit")
        c.via = string(j, "via")
        c.brokerConnack = j["broker_connack"]?.intValue
        return c
    }

    public static func decodeTLS(_ j: JSONValue) -> TLSDetails? {
        guard let version = j["version"]?.stringValue else { return nil }
        return TLSDetails(version: version, sni: string(j, "sni"), sslID: string(j, "ssl_id"),
                          clientCN: string(j, "client_cn"),
                          clientSANs: j["client_sans"]?.arrayValue?.compactMap(\.stringValue) ?? [],
                          clientSubject: string(j, "client_subject"))
    }

    public static func decodeRoute(_ j: JSONValue) -> RouteStats? {
        guard let id = j["route_id"]?.stringValue else { return nil }
        return RouteStats(routeID: id, active: int(j, "active"), total: int(j, "total"), rejected: counts(j["rejected"]),
                          bytesIn: int(j, "bytes_in"), bytesOut: int(j, "bytes_out"),
                          connectFailures: int(j, "connect_failures"), disconnects: counts(j["disconnects"]))
    }

    public static func decodeNode(_ j: JSONValue) -> NodeStats? {
        guard let node = j["node"]?.stringValue else { return nil }
        var connacks: [Int: Int] = [:]
        for (label, count) in j["broker_connacks"]?.objectValue ?? [:] {
            guard label.hasPrefix("0x"), let code = Int(label.dropFirst(2), radix: 16) else { continue }
            connacks[code] = count.intValue ?? 0
        }
        return NodeStats(node: node, active: int(j, "active"), total: int(j, "total"), bytesIn: int(j, "bytes_in"),
                         bytesOut: int(j, "bytes_out"), connectFailures: int(j, "connect_failures"),
                         failing: j["failing"]?.boolValue ?? false, disconnects: counts(j["disconnects"]),
                         connacks: connacks)
    }

    public static func decodeHealth(_ j: JSONValue) -> NodeHealth? {
        guard let node = j["node"]?.stringValue else { return nil }
        let drain = j["drain"].flatMap { d -> DrainInfo? in
            guard case .object = d else { return nil }
            return DrainInfo(evictPerSecond: d["evict_per_second"]?.doubleValue,
                             serverReference: string(d, "server_reference"), since: double(d, "since"),
                             evicted: int(d, "evicted"))
        }
        return NodeHealth(node: node, checked: j["checked"]?.boolValue ?? (j["check"]?.stringValue != nil),
                          healthy: j["healthy"]?.boolValue ?? true, state: string(j, "state") ?? "unchecked",
                          reason: string(j, "reason"), since: j["since"]?.doubleValue, checkType: string(j, "check"),
                          drain: drain, active: int(j, "active"),
                          upstreams: j["upstreams"]?.arrayValue?.compactMap(\.stringValue) ?? [])
    }

    public static func decodeEvent(_ j: JSONValue) -> EngineEvent? {
        guard let sequence = j["sequence"]?.intValue, let kindName = j["kind"]?.stringValue,
              let kind = EngineEvent.Kind(rawValue: kindName)
        else { return nil }
        return EngineEvent(sequence: sequence, time: double(j, "time"), kind: kind, routeID: string(j, "route_id"),
                           clientID: string(j, "client_id"), remote: string(j, "remote_addr"), node: string(j, "node"),
                           message: string(j, "message") ?? "",
                           connectionID: j["connection_id"]?.intValue.map { UInt64($0) })
    }

    public static func decodeStore(_ j: JSONValue) -> StoreStatus? {
        guard let provider = j["provider"]?.stringValue else { return nil }
        return StoreStatus(provider: provider, location: string(j, "location") ?? "",
                           reachable: j["reachable"]?.boolValue ?? false, since: double(j, "since"),
                           lastError: string(j, "last_error"), sourceRevision: j["source_revision"]?.intValue,
                           fromCache: j["from_cache"]?.boolValue ?? false)
    }

    public static func decodeRebalance(_ j: JSONValue) -> RebalancePreview? {
        guard let moves = j["moves"]?.arrayValue else { return nil }
        return RebalancePreview(considered: int(j, "connected"), moves: moves.compactMap { m in
            guard let hashKey = m["hash_key"]?.stringValue, let routeID = m["route_id"]?.stringValue,
                  let from = m["from"]?.stringValue
            else { return nil }
            return RebalancePreview.Move(connectionID: UInt64(max(0, int(m, "connection_id"))),
                                         clientID: string(m, "client_id"), hashKey: hashKey, routeID: routeID,
                                         from: from, to: string(m, "to"))
        })
    }

    /// A snapshot without connections and events from `/v1/summary`.
    public static func decodeSummary(_ j: JSONValue) -> EngineSnapshot? {
        guard let version = j["snapshot_version"]?.intValue else { return nil }
        var s = EngineSnapshot(
            version: version, takenAt: double(j, "taken_at"), startedAt: double(j, "started_at"),
            listeners: j["listeners"]?.arrayValue?.compactMap(\.stringValue) ?? [], connections: [],
            routes: j["routes"]?.arrayValue?.compactMap(decodeRoute) ?? [],
            nodes: j["nodes"]?.arrayValue?.compactMap(decodeNode) ?? [], events: [], pending: int(j, "pending"),
            totalAccepted: int(j, "accepted"), totalRejected: int(j, "rejected"),
            rejectedByReason: counts(j["rejected_by_reason"]), tlsHandshakes: int(j, "tls_handshakes"),
            prereadBytes: int(j, "preread_bytes"), drainTimeout: j["drain_timeout"]?.doubleValue ?? 10)
        s.relayed = int(j, "relayed")
        s.health = j["health"]?.arrayValue?.compactMap(decodeHealth) ?? []
        s.store = j["store"].flatMap(decodeStore)
        s.connectionLimit = int(j, "max_connections")
        s.descriptorLimit = int(j, "descriptor_limit")
        return s
    }

    static func counts<Reason: RawRepresentable<String> & Hashable>(_ j: JSONValue?) -> [Reason: Int] {
        var out: [Reason: Int] = [:]
        for (name, count) in j?.objectValue ?? [:] {
            if let reason = Reason(rawValue: name) { out[reason] = count.intValue ?? 0 }
        }
        return out
    }

    static func string(_ j: JSONValue, _ key: String) -> String? { j[key]?.stringValue }
    static func int(_ j: JSONValue, _ key: String) -> Int { j[key]?.intValue ?? 0 }
    static func double(_ j: JSONValue, _ key: String) -> Double { j[key]?.doubleValue ?? 0 }
}

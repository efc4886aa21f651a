import Foundation
import ProxyControl
import ProxyModel

/// The rows each view shows, after filter and sort: shared by the renderer and key handling.
enum ViewRows {
    /// A view's filter, prepared once per frame: a case-insensitive substring, or a regular expression when
    /// the text compiles as one. A leading `!` inverts it (k9s' habit): the rows that do not match.
    struct RowFilter {
        let needle: String
        let regex: NSRegularExpression?
        let inverted: Bool

        init?(_ text: String?) {
            guard var text, !text.isEmpty else { return nil }
            inverted = text.hasPrefix("!")
            if inverted { text.removeFirst() }
            guard !text.isEmpty else { return nil }
            needle = text.lowercased()
            regex = try? NSRegularExpression(pattern: text, options: [.caseInsensitive])
        }

        func matches(_ fields: [String]) -> Bool {
            let line = fields.joined(separator: " ")
            let hit: Bool
            if line.lowercased().contains(needle) {
                hit = true
            } else if let regex {
                hit = regex.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)) != nil
            } else {
                hit = false
            }
            return hit != inverted
        }
    }

    /// Whether the fields pass `filter` (no filter passes everything).
    static func matches(_ fields: [String], filter: RowFilter?) -> Bool {
        filter?.matches(fields) ?? true
    }

    static func clientLabel(_ c: ConnectionInfo) -> String { c.clientID ?? "<empty> \(c.remoteAddress)" }

    static func version(_ level: Int?) -> String {
        switch level {
        case 3: return "3.1"
        case 4: return "3.1.1"
        case 5: return "5.0"
        case .some(let l): return "L\(l)"
        case nil: return "tcp"
        }
    }

    static let connectionSortNames = ["client id", "remote", "route", "node", "version", "age", "bytes in", "bytes out"]

    static func connections(_ state: ConsoleState, _ data: ConsoleData, sorted: Bool = true) -> [ConnectionInfo] {
        let filter = RowFilter(state.filter[.connections])
        var labelled: [(label: String, info: ConnectionInfo)] = []
        labelled.reserveCapacity(data.engine.connections.count)
        for c in data.engine.connections where FleetRows.passes(c.instance, state) {
            let label = clientLabel(c)
            if let filter,
               !filter.matches([label, "\(c.remoteAddress):\(c.remotePort)", c.routeID, c.node, version(c.protocolLevel),
                                tlsText(c.tls), c.instance ?? ""])
            {
                continue
            }
            labelled.append((label, c))
        }
        guard sorted else { return labelled.map(\.info) }
        let column = state.sortColumn[.connections] ?? 0
        let reversed = state.sortReversed[.connections] ?? false
        labelled.sort { x, y in
            let a = x.info
            let b = y.info
            let less: Bool
            switch column {
            case 1: less = (a.remoteAddress, a.remotePort) < (b.remoteAddress, b.remotePort)
            case 2: less = a.routeID < b.routeID
            case 3: less = a.node < b.node
            case 4: less = (a.protocolLevel ?? 0) < (b.protocolLevel ?? 0)
            case 5: less = a.startedAt > b.startedAt
            case 6: less = a.bytesIn < b.bytesIn
            case 7: less = a.bytesOut < b.bytesOut
            default:
                // Named clients first, then the empty ids (by address).
                let an = a.clientID == nil ? 1 : 0
                let bn = b.clientID == nil ? 1 : 0
                less = an != bn ? an < bn : x.label < y.label
            }
            return reversed ? !less : less
        }
        return labelled.map(\.info)
    }

    static let routeSortNames = ["id", "active", "total", "rejected"]

    struct RouteRow {
        var stored: StoredObject<StreamRoute>
        var upstream: Upstream?
        var stats: RouteStats?
    }

    static func routes(_ state: ConsoleState, _ data: ConsoleData) -> [RouteRow] {
        let stats = Dictionary(data.engine.routes.map { ($0.routeID, $0) }, uniquingKeysWith: { a, _ in a })
        var rows = data.resources.streamRoutes.values.map { s in
            RouteRow(stored: s, upstream: data.resources.upstream(for: s.value), stats: stats[s.id])
        }.filter { r in
            matches([r.stored.id, r.stored.value.name ?? "", r.stored.value.desc ?? "", matchText(r.stored.value)],
                    filter: RowFilter(state.filter[.routes]))
        }
        let column = state.sortColumn[.routes] ?? 0
        if column > 0 {
            let reversed = state.sortReversed[.routes] ?? false
            rows.sort { a, b in
                let less: Bool
                switch column {
                case 1: less = (a.stats?.active ?? 0) > (b.stats?.active ?? 0)
                case 2: less = (a.stats?.total ?? 0) > (b.stats?.total ?? 0)
                default: less = rejected(a.stats) > rejected(b.stats)
                }
                return reversed ? !less : less
            }
        } else if state.sortReversed[.routes] == true {
            rows.reverse()
        }
        return rows
    }

    static func rejected(_ s: RouteStats?) -> Int { s?.rejected.values.reduce(0, +) ?? 0 }

    /// The TLS column: `1.3 mqtt.example.com cn=device-7`, or `-` for plaintext.
    static func tlsText(_ t: TLSDetails?) -> String {
        guard let t else { return "-" }
        var parts = [t.version.replacingOccurrences(of: "TLSv", with: "")]
        parts.append(t.sni ?? "no-sni")
        if let cn = t.clientCN { parts.append("cn=\(cn)") }
        return parts.joined(separator: " ")
    }

    /// Whether a route takes TLS connections: it matches an SNI, or its port is a TLS listener's.
    static func isTLS(_ r: StreamRoute, listeners: [String]) -> Bool {
        if r.sni != nil { return true }
        guard let port = r.serverPort else { return false }
        return listeners.contains { $0.hasSuffix(":\(port) tls") }
    }

    static func matchText(_ r: StreamRoute) -> String {
        var parts: [String] = []
        if let p = r.serverPort { parts.append(":\(p)") }
        if let a = r.serverAddr { parts.append("to \(a)") }
        if let a = r.remoteAddr { parts.append("from \(a)") }
        if let s = r.sni { parts.append("sni \(s)") }
        return parts.isEmpty ? "any" : parts.joined(separator: " ")
    }

    /// One node line of the Clients → Nodes view.
    struct NodeRow {
        var routeID: String
        var node: UpstreamNode
        var address: String
        var active: Int
        var routeActive: Int
        var expectedShare: Double
        var clients: [ConnectionInfo]
    }

    static func mappingNodes(_ state: ConsoleState, _ data: ConsoleData) -> [NodeRow] {
        var rows: [NodeRow] = []
        let filter = RowFilter(state.filter[.mappings])
        // One pass over the connections: route → node address → connections.
        var byRoute: [String: [String: [ConnectionInfo]]] = [:]
        for c in data.engine.connections where FleetRows.passes(c.instance, state) {
            byRoute[c.routeID, default: [:]][c.node, default: []].append(c)
        }
        for stored in data.resources.streamRoutes.values {
            guard let upstream = data.resources.upstream(for: stored.value) else { continue }
            let perNode = byRoute[stored.id] ?? [:]
            let routeActive = perNode.values.reduce(0) { $0 + $1.count }
            let totalWeight = upstream.nodes.reduce(0) { $0 + $1.weight }
            for node in upstream.nodes {
                var onNode = perNode[node.address] ?? []
                if IPAddressBytes(node.host) == nil {
                    // A node written as a host name shows up resolved: match it by port.
                    for (address, conns) in perNode where address != node.address
                        && address.hasSuffix(":\(node.port)") { onNode += conns }
                }
                if let filter, !filter.matches([stored.id, node.address]),
                   !onNode.contains(where: { filter.matches([clientLabel($0)]) })
                {
                    continue
                }
                rows.append(NodeRow(routeID: stored.id, node: node, address: node.address, active: onNode.count,
                                    routeActive: routeActive,
                                    expectedShare: totalWeight > 0 ? Double(node.weight) / Double(totalWeight) : 0,
                                    clients: onNode))
            }
        }
        return rows
    }

    /// The engine's health entry of a configured node (a node written as a host name is matched by its port).
    static func health(of node: UpstreamNode, _ data: ConsoleData) -> NodeHealth? {
        if let exact = data.engine.health.first(where: { $0.node == node.address }) { return exact }
        guard IPAddressBytes(node.host) == nil else { return nil }
        return data.engine.health.first { $0.node.hasSuffix(":\(node.port)") }
    }

    /// A node's marker and the role to draw it with: draining `⇣`, unhealthy `✗`, failing connects `✗N`, else `●`.
    static func marker(of node: UpstreamNode, _ data: ConsoleData) -> (text: String, role: Role) {
        let health = health(of: node, data)
        if health?.draining == true { return ("⇣", .warning) }
        if health?.healthy == false { return ("✗", .bad) }
        let stats = data.engine.nodes.first { $0.node == (health?.node ?? node.address) }
        if stats?.failing == true { return ("✗\(min(stats?.connectFailures ?? 0, 99))", .bad) }
        return ("●", .good)
    }

    /// One line on a node's state: `unhealthy: no CONNACK within 0.5 s`, `draining (5/s → mqtt-2:1883)`.
    static func nodeState(of node: UpstreamNode, _ data: ConsoleData) -> String? {
        guard let health = health(of: node, data) else { return nil }
        var parts: [String] = []
        if !health.healthy { parts.append("unhealthy: \(health.reason ?? "?")") }
        if let drain = health.drain {
            let rate = drain.evictPerSecond.map { "\(Format.number($0))/s" } ?? "no eviction"
            parts.append("draining (\(rate)\(drain.serverReference.map { " → \($0)" } ?? ""), \(drain.evicted) moved)")
        }
        if parts.isEmpty, health.checked { parts.append("healthy (\(health.checkType ?? "tcp") check)") }
        return parts.isEmpty ? nil : parts.joined(separator: " · ")
    }

    static func events(_ state: ConsoleState, _ data: ConsoleData) -> [EngineEvent] {
        let events = state.instanceFilter == nil ? data.engine.events
            : data.engine.events.filter { FleetRows.passes($0.instance, state) }
        guard let filter = RowFilter(state.filter[.log]) else { return events }
        return events.filter { e in
            filter.matches([e.kind.rawValue, e.routeID ?? "", e.clientID ?? "", e.remote ?? "", e.node ?? "", e.message,
                            e.instance ?? ""])
        }
    }

    /// How many rows the current view has (for moving the selection).
    static func count(_ state: ConsoleState, _ data: ConsoleData) -> Int {
        switch state.view {
        case .connections: return connections(state, data, sorted: false).count
        case .mappings: return mappingNodes(state, data).count
        case .routes: return routes(state, data).count
        case .log: return events(state, data).count
        }
    }
}

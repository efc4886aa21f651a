import Foundation
import ProxyEngine
import ProxyModel

/// The rows each view shows, after filter and sort: shared by the renderer and key handling.
enum ViewRows {
    /// Whether `text` passes the view's filter: substring (case-insensitive), or a regex when it compiles.
    static func matches(_ fields: [String], filter: String?) -> Bool {
        guard let filter, !filter.isEmpty else { return true }
        let line = fields.joined(separator: " ")
        if line.localizedCaseInsensitiveContains(filter) { return true }
        if let regex = try? NSRegularExpression(pattern: filter, options: [.caseInsensitive]) {
            return regex.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)) != nil
        }
        return false
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

    static func connections(_ state: ConsoleState, _ data: ConsoleData) -> [ConnectionInfo] {
        let filter = state.filter[.connections]
        var rows = data.engine.connections.filter { c in
            matches([clientLabel(c), "\(c.remoteAddress):\(c.remotePort)", c.routeID, c.node, version(c.protocolLevel)],
                    filter: filter)
        }
        let column = state.sortColumn[.connections] ?? 0
        let reversed = state.sortReversed[.connections] ?? false
        rows.sort { a, b in
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
                less = (a.clientID == nil ? 1 : 0, clientLabel(a)) < (b.clientID == nil ? 1 : 0, clientLabel(b))
            }
            return reversed ? !less : less
        }
        return rows
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
                    filter: state.filter[.routes])
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
        let filter = state.filter[.mappings]
        for stored in data.resources.streamRoutes.values {
            guard let upstream = data.resources.upstream(for: stored.value) else { continue }
            let conns = data.engine.connections.filter { $0.routeID == stored.id }
            let totalWeight = upstream.nodes.reduce(0) { $0 + $1.weight }
            for node in upstream.nodes {
                let onNode = conns.filter { $0.node == node.address || $0.node.hasSuffix(":\(node.port)")
                    && NodeAddress.sameHost($0.node, node) }
                let row = NodeRow(routeID: stored.id, node: node, address: node.address, active: onNode.count,
                                  routeActive: conns.count,
                                  expectedShare: totalWeight > 0 ? Double(node.weight) / Double(totalWeight) : 0,
                                  clients: onNode.sorted { clientLabel($0) < clientLabel($1) })
                if matches([stored.id, node.address] + onNode.map(clientLabel), filter: filter) { rows.append(row) }
            }
        }
        return rows
    }

    static func events(_ state: ConsoleState, _ data: ConsoleData) -> [EngineEvent] {
        data.engine.events.filter { e in
            matches([e.kind.rawValue, e.routeID ?? "", e.clientID ?? "", e.remote ?? "", e.node ?? "", e.message],
                    filter: state.filter[.log])
        }
    }

    /// How many rows the current view has (for moving the selection).
    static func count(_ state: ConsoleState, _ data: ConsoleData) -> Int {
        switch state.view {
        case .connections: return connections(state, data).count
        case .mappings: return mappingNodes(state, data).count
        case .routes: return routes(state, data).count
        case .log: return events(state, data).count
        }
    }
}

/// Matching a configured node (which may be a host name) with the resolved `ip:port` a connection shows.
enum NodeAddress {
    static func sameHost(_ resolved: String, _ node: UpstreamNode) -> Bool {
        // A node written as a name is shown resolved; match it by port when the name is not an IP literal.
        IPAddressBytes(node.host) == nil
    }
}

import ProxyControl
import ProxyModel

/// View 3: every stream route with its match, plugin, upstream, nodes, counters and a rate sparkline.
enum RoutesView {
    static let columns = [
        Column(title: "ID", minWidth: 10, priority: 10),
        Column(title: "NAME/DESC", minWidth: 10, flex: 1, priority: 3),
        Column(title: "MATCH", minWidth: 8, flex: 1, priority: 6),
        Column(title: "PLUGIN", minWidth: 7, priority: 5),
        Column(title: "UPSTREAM", minWidth: 14, flex: 1, priority: 7),
        Column(title: "NODES", minWidth: 18, flex: 4, priority: 8),
        Column(title: "ACT", minWidth: 4, priority: 9, rightAligned: true),
        Column(title: "TOTAL", minWidth: 6, priority: 4, rightAligned: true),
        Column(title: "REJ", minWidth: 4, priority: 6, rightAligned: true),
        Column(title: "B/s IN/OUT", minWidth: 11, priority: 2, rightAligned: true),
        Column(title: "CONN/S 60s", minWidth: 10, flex: 1, priority: 1),
    ]
    static let sortColumnIndex = [0, 6, 7, 8]

    /// Every node with its weight and (when not plainly up) its marker; when that is wider than the column, a
    /// summary that fits: how many nodes and how many are up, down or draining, then as many nodes as fit.
    static func nodesText(_ nodes: [UpstreamNode], _ data: ConsoleData, width: Int) -> String {
        let markers = nodes.map { ViewRows.marker(of: $0, data).text }
        let each = zip(nodes, markers).map { node, marker in
            "\(node.address)×\(node.weight)" + (marker == "●" ? "" : marker)
        }
        let full = each.joined(separator: " ")
        guard CellGrid.displayWidth(full) > width, nodes.count > 1 else { return full }
        let down = markers.filter { $0.hasPrefix("✗") }.count
        let draining = markers.filter { $0 == "⇣" }.count
        var summary = "\(nodes.count) nodes \(nodes.count - down - draining)●"
        if down > 0 { summary += " \(down)✗" }
        if draining > 0 { summary += " \(draining)⇣" }
        var shown: [String] = []
        for item in each {
            let next = summary + ": " + (shown + [item]).joined(separator: " ")
            guard CellGrid.displayWidth(next) <= width else { break }
            shown.append(item)
        }
        return shown.isEmpty ? summary : summary + ": " + shown.joined(separator: " ")
    }

    static func draw(_ state: ConsoleState, _ data: ConsoleData, _ grid: inout CellGrid, rows: Range<Int>) {
        let items = ViewRows.routes(state, data)
        let layout = Table.layout(columns, width: grid.width)
        var titles = columns.map(\.title)
        titles[sortColumnIndex[state.sortColumn[.routes] ?? 0]] += (state.sortReversed[.routes] ?? false) ? "▲" : "▼"
        grid.fill(row: rows.lowerBound, role: .header)
        Table.drawRow(&grid, row: rows.lowerBound, layout: layout, columns: columns, values: titles, role: .header)
        guard !items.isEmpty else {
            grid.put("no stream routes — press a to add one", row: rows.lowerBound + 1, column: 1, role: .dim)
            return
        }
        let selected = min(state.selection[.routes] ?? 0, items.count - 1)
        let body = (rows.lowerBound + 1)..<(rows.upperBound - 3)
        let first = Scrolling.firstRow(selected: selected, count: items.count, visible: body.count)
        let sparkWidth = layout.first { $0.index == 10 }?.width ?? 10
        for (offset, r) in items[first...].prefix(body.count).enumerated() {
            let row = body.lowerBound + offset
            grid.itemRows[row] = first + offset
            let route = r.stored.value
            let plugin = route.mqttProxy.map { "\($0.protocolName)/\($0.protocolLevel)" } ?? "tcp"
            let upstream = r.upstream.map { up in
                (route.upstreamID.map { "#\($0) " } ?? "") + (up.type == .chash ? "chash \(up.key ?? "")" : up.type.rawValue)
            } ?? "missing"
            let nodes = nodesText(r.upstream?.nodes ?? [], data, width: layout.first { $0.index == 5 }?.width ?? 18)
            let s = r.stats
            let values = [
                (ViewRows.isTLS(route, listeners: data.engine.listeners) ? "🔒" : "") + r.stored.id, route.name ?? route.desc ?? "", ViewRows.matchText(route),
                plugin, upstream, nodes, "\(s?.active ?? 0)", "\(s?.total ?? 0)", "\(ViewRows.rejected(s))",
                rate(data.byteRates[r.stored.id]),
                Format.sparkline(data.connectRates[r.stored.id] ?? [], width: sparkWidth),
            ]
            let isSelected = first + offset == selected
            if isSelected { grid.fill(row: row, role: .selected) }
            Table.drawRow(&grid, row: row, layout: layout, columns: columns, values: values,
                          role: isSelected ? .selected : .normal,
                          roles: isSelected ? [] : [.accent, nil, nil, nil, nil, .dim, .good, nil,
                                                    ViewRows.rejected(s) > 0 ? .bad : nil, nil, .bar])
        }
        // Limits, why relays ended, totals and rejections (by reason) of the selected route.
        let limits = limitsText(items[selected].stored.value)
        let ended = items[selected].stats.map { s in
            s.disconnects.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue) \($0.value)" }
        } ?? []
        let split = FleetRows.routeSplit(items[selected].stored.id, data)
        let third = [split, limits, ended.isEmpty ? nil : "ended: " + ended.joined(separator: ", ")].compactMap { $0 }
        if !third.isEmpty { grid.put(third.joined(separator: " · "), row: rows.upperBound - 3, column: 0, role: .dim) }
        if let s = items[selected].stats {
            let id = items[selected].stored.id
            grid.put("route \(id): \(s.total) connections, bytes in \(Format.bytes(s.bytesIn)) out "
                     + "\(Format.bytes(s.bytesOut)), connect failures \(s.connectFailures)",
                     row: rows.upperBound - 2, column: 0, role: .dim)
            if !s.rejected.isEmpty {
                let text = "rejected on \(id): " + s.rejected.sorted { $0.key.rawValue < $1.key.rawValue }
                    .map { "\($0.key.rawValue) \($0.value)" }.joined(separator: ", ")
                grid.put(text, row: rows.upperBound - 1, column: 0, role: .bad)
            }
        }
    }

    /// "limits: connect_rate 50/s burst 100, limit-conn 10+5 by remote_addr"; nil without limits.
    static func limitsText(_ route: StreamRoute) -> String? {
        var parts: [String] = []
        if let r = route.mqttProxy?.connectRate {
            parts.append("connect_rate \(Format.number(r.rate))/s burst \(r.burst)")
        }
        if let l = route.limitConn { parts.append("limit-conn \(l.conn)+\(l.burst) by \(l.key)") }
        return parts.isEmpty ? nil : "limits: " + parts.joined(separator: ", ")
    }

    static func rate(_ r: ByteRate?) -> String {
        guard let r else { return "-" }
        return "\(Format.bytes(Int(r.inPerSecond)))/\(Format.bytes(Int(r.outPerSecond)))"
    }
}

import Foundation
import ProxyControl

/// View 2: per route, each node's weight, active clients and share against its expected share; then the
/// clients on the selected node.
enum MappingsView {
    static func draw(_ state: ConsoleState, _ data: ConsoleData, _ grid: inout CellGrid, rows: Range<Int>) {
        let nodes = ViewRows.mappingNodes(state, data)
        guard !nodes.isEmpty else {
            grid.put("no stream routes with nodes", row: rows.lowerBound, column: 1, role: .dim)
            return
        }
        var rows = rows
        if let warning = FleetRows.warning(data) {
            grid.put(warning, row: rows.lowerBound, column: 0, role: .warning)
            rows = (rows.lowerBound + 1)..<rows.upperBound
        }
        let selected = min(state.selection[.mappings] ?? 0, nodes.count - 1)
        let listHeight = max(3, min(nodes.count + Set(nodes.map(\.routeID)).count + 1, rows.count * 3 / 5))
        let addressWidth = min(24, max(12, nodes.map { CellGrid.displayWidth($0.address) }.max() ?? 12))
        let barWidth = max(6, grid.width - addressWidth - 42)
        var row = rows.lowerBound
        var lastRoute: String?
        let first = Scrolling.firstRow(selected: selected, count: nodes.count, visible: listHeight - 1)
        for (i, n) in nodes.enumerated() where i >= first {
            guard row < rows.lowerBound + listHeight else { break }
            if n.routeID != lastRoute {
                lastRoute = n.routeID
                let up = data.resources.streamRoutes[n.routeID].flatMap { data.resources.upstream(for: $0.value) }
                let kind = up.map { $0.type == .chash ? "chash on \($0.key ?? "?")" : $0.type.rawValue } ?? "?"
                let split = FleetRows.routeClients(n.routeID, data).map { " (\($0))" } ?? ""
                grid.put("route \(n.routeID) · \(kind) · \(n.routeActive) client(s)\(split)", row: row, column: 0,
                         role: .header)
                row += 1
                guard row < rows.lowerBound + listHeight else { break }
            }
            let share = n.routeActive > 0 ? Double(n.active) / Double(n.routeActive) : 0
            let isSelected = i == selected
            grid.itemRows[row] = i
            if isSelected { grid.fill(row: row, role: .selected) }
            var x = grid.put(" " + n.address, row: row, column: 0, role: isSelected ? .selected : .accent,
                             maxWidth: addressWidth + 1) + 1
            x = max(x, addressWidth + 2)
            x += grid.put(String(format: "w%-3d", n.node.weight), row: row, column: x,
                          role: isSelected ? .selected : .dim) + 1
            // ⇣ drained, ✗ unhealthy (or ✗N while the latest connect to it failed), ● fine.
            let marker = ViewRows.marker(of: n.node, data)
            x += grid.put(marker.text, row: row, column: x, role: isSelected ? .selected : marker.role, maxWidth: 3)
            x += 1
            x += grid.put(String(format: "%5d", n.active), row: row, column: x, role: isSelected ? .selected : .normal) + 1
            let bar = Format.bar(share, width: barWidth)
            grid.put(bar, row: row, column: x, role: isSelected ? .selected : .bar)
            let expectedAt = x + min(barWidth - 1, Int((n.expectedShare * Double(barWidth)).rounded()))
            if expectedAt < grid.width { grid.put("│", row: row, column: expectedAt, role: .expected) }
            x += barWidth + 1
            let skew = abs(share - n.expectedShare) > 0.15 && n.routeActive >= 10
            grid.put(String(format: "%3.0f%% (exp %2.0f%%)", share * 100, n.expectedShare * 100), row: row, column: x,
                     role: isSelected ? .selected : (skew ? .warning : .dim))
            row += 1
        }
        row += 1
        guard row < rows.upperBound, nodes.indices.contains(selected) else { return }
        let chosen = nodes[selected]
        let clients = chosen.clients.map { (label: ViewRows.clientLabel($0), named: $0.clientID != nil) }
            .sorted { $0.label < $1.label }
        grid.put("clients on \(chosen.address) (route \(chosen.routeID)): \(clients.count)", row: row,
                 column: 0, role: .header)
        row += 1
        if let split = FleetRows.nodeSplit(chosen.clients, data), row < rows.upperBound {
            grid.put(split, row: row, column: 1, role: .dim)
            row += 1
        }
        if let state = ViewRows.nodeState(of: chosen.node, data), row < rows.upperBound {
            let bad = state.hasPrefix("unhealthy") || state.hasPrefix("draining")
            grid.put(state, row: row, column: 1, role: bad ? .warning : .dim)
            row += 1
        }
        // What the broker answered (refusals stand out) and why its relays ended.
        if let stats = data.engine.nodes.first(where: { $0.node == chosen.address }), row < rows.upperBound {
            let refusals = stats.connacks.filter { $0.key != 0 }.sorted { $0.key < $1.key }
                .map { "\(ConnackLabel.text($0.key)) ×\($0.value)" }
            let ended = stats.disconnects.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue) \($0.value)" }
            var parts: [String] = []
            if !refusals.isEmpty { parts.append("broker refused CONNACK " + refusals.joined(separator: ", ")) }
            if !ended.isEmpty { parts.append("ended: " + ended.joined(separator: ", ")) }
            if !parts.isEmpty {
                grid.put(parts.joined(separator: " · "), row: row, column: 1, role: refusals.isEmpty ? .dim : .bad)
                row += 1
            }
        }
        let visible = clients.prefix(max(0, rows.upperBound - row) * max(1, grid.width / 16))
        let colWidth = max(16, (visible.map { CellGrid.displayWidth($0.label) }.max() ?? 16) + 2)
        let perRow = max(1, grid.width / colWidth)
        for (i, c) in visible.enumerated() {
            let r = row + i / perRow
            guard r < rows.upperBound else { break }
            grid.put(c.label, row: r, column: (i % perRow) * colWidth,
                     role: c.named ? .normal : .dim, maxWidth: colWidth - 1)
        }
    }
}

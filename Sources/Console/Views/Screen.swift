import Foundation
import ProxyControl

/// Draws a whole frame: header, view tabs, the current view, status line, key footer, overlays.
enum Screen {
    static func draw(state: ConsoleState, data: ConsoleData, into grid: inout CellGrid) {
        guard grid.height >= 6, grid.width >= 20 else {
            grid.put("terminal too small", row: 0, column: 0, role: .warning)
            return
        }
        drawHeader(state, data, &grid)
        // Attached: the instance bar under the header, the tabs under it.
        let attached = data.engine.isAttached
        if attached { drawInstances(state, data, &grid) }
        drawTabs(state, &grid, row: attached ? 2 : 1)
        let body = (attached ? 3 : 2)..<(grid.height - 2)
        switch state.view {
        case .connections: ConnectionsView.draw(state, data, &grid, rows: body)
        case .mappings: MappingsView.draw(state, data, &grid, rows: body)
        case .routes: RoutesView.draw(state, data, &grid, rows: body)
        case .log: LogView.draw(state, data, &grid, rows: body)
        }
        drawStatus(state, data, &grid)
        drawFooter(state, fleet: FleetRows.isFleet(data), &grid)
        if let overlay = state.overlay { Overlays.draw(overlay, state, data, &grid) }
    }

    static func drawHeader(_ state: ConsoleState, _ data: ConsoleData, _ grid: inout CellGrid) {
        grid.fill(row: 0, role: .header)
        let e = data.engine
        var parts = ["mqtt-proxy"]
        if e.isAttached {
            let up = e.instances.filter(\.reachable).count
            parts[0] += " ⇄ attached to \(e.instances.count == 1 ? e.instances[0].url : "\(e.instances.count) instances")"
                + (up < e.instances.count ? " (\(e.instances.count - up) lost)" : "")
        } else {
            parts.append("listen " + (e.listeners.isEmpty ? "none" : e.listeners.joined(separator: ",")))
        }
        parts.append("up " + Format.duration(data.now - e.startedAt))
        parts.append("conns \(e.connections.count)" + (e.connectionLimit > 0 ? "/\(e.connectionLimit)" : ""))
        parts.append("total \(e.totalAccepted)")
        parts.append("rejected \(e.totalRejected)")
        if let admin = data.adminAddress { parts.append("admin \(admin)") }
        if let store = data.storeStatus, store.provider != "file" {
            parts.append(store.reachable ? "\(store.provider) rev \(store.sourceRevision ?? 0)"
                                         : "\(store.provider) UNREACHABLE since \(Format.clock(store.since))")
        }
        var x = grid.put(" " + parts.joined(separator: " │ "), row: 0, column: 0, role: .header)
        if state.paused || state.readonly {
            let tag = (state.paused ? " PAUSED " : "") + (state.readonly ? " READ-ONLY " : "")
            x = grid.width - CellGrid.displayWidth(tag)
            grid.put(tag, row: 0, column: max(0, x), role: .warning)
        }
    }

    static func drawTabs(_ state: ConsoleState, _ grid: inout CellGrid, row: Int = 1) {
        var x = 0
        for v in ViewKind.allCases {
            let label = " \(v.rawValue) \(v.title) "
            x += grid.put(label, row: row, column: x, role: v == state.view ? .selected : .dim) + 1
        }
        if let instance = state.instanceFilter {
            x += grid.put(" instance: \(instance)", row: row, column: x, role: .accent)
        }
        if let f = state.filter[state.view], state.filterDraft == nil {
            grid.put(" filter: \(f)", row: row, column: x, role: .accent)
        }
    }

    /// One segment per instance: `a ● etcd rev 14 3KB↓`, or `b ✗ lost 12s ago (connection refused)`.
    static func drawInstances(_ state: ConsoleState, _ data: ConsoleData, _ grid: inout CellGrid) {
        var x = 0
        for (text, role) in FleetRows.bar(state, data) {
            guard x < grid.width else { break }
            x += grid.put(text, row: 1, column: x, role: role)
            x += grid.put(" │", row: 1, column: x, role: .dim)
        }
    }

    static func drawStatus(_ state: ConsoleState, _ data: ConsoleData, _ grid: inout CellGrid) {
        let row = grid.height - 2
        if let draft = state.filterDraft {
            grid.put("/" + draft + "▏", row: row, column: 0, role: .input)
            return
        }
        if state.colonPending {
            grid.put(":", row: row, column: 0, role: .input)
            return
        }
        if let total = state.quitting {
            let left = data.engine.openConnections
            grid.put("quitting: ending connections — \(total - min(left, total)) of \(total) ended, \(left) left…", row: row,
                     column: 0, role: .warning)
            return
        }
        if let s = state.status { grid.put(s.text, row: row, column: 0, role: s.isError ? .bad : .dim) }
    }

    static func drawFooter(_ state: ConsoleState, fleet: Bool = false, _ grid: inout CellGrid) {
        let row = grid.height - 1
        var x = 0
        for b in KeyTable.bindings where b.views.contains(state.view) || ["help", "filter", "pause", "quit"]
            .contains(b.label)
        {
            if b.mutates, state.readonly { continue }
            if b.demoOnly, !state.demo { continue }
            if b.fleetOnly, !fleet { continue }
            let key = KeyTable.name(b.keys[0])
            let width = CellGrid.displayWidth(key) + CellGrid.displayWidth(b.label) + 2
            guard x + width <= grid.width else { break }
            x += grid.put(key, row: row, column: x, role: .accent)
            x += grid.put(" " + b.label + " ", row: row, column: x, role: .dim)
        }
    }
}

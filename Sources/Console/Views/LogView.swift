import Foundation
import ProxyControl

/// View 4: connects, disconnects, rejections, failures, reloads; newest at the bottom.
enum LogView {
    static func draw(_ state: ConsoleState, _ data: ConsoleData, _ grid: inout CellGrid, rows: Range<Int>) {
        let events = ViewRows.events(state, data)
        guard !events.isEmpty else {
            grid.put("no events yet", row: rows.lowerBound, column: 1, role: .dim)
            return
        }
        let selected = state.followLog ? events.count - 1 : min(state.selection[.log] ?? 0, events.count - 1)
        let visible = rows.count
        let first = state.followLog ? max(0, events.count - visible)
            : Scrolling.firstRow(selected: selected, count: events.count, visible: visible)
        let formatter = DateFormatter()
        formatter.dateFormat = "HH:mm:ss"
        for (offset, e) in events[first...].prefix(visible).enumerated() {
            let row = rows.lowerBound + offset
            grid.itemRows[row] = first + offset
            let isSelected = !state.followLog && first + offset == selected
            if isSelected { grid.fill(row: row, role: .selected) }
            var x = grid.put(formatter.string(from: Date(timeIntervalSince1970: e.time)) + " ", row: row, column: 0,
                             role: isSelected ? .selected : .dim)
            x += grid.put(String(e.kind.rawValue.prefix(10)).padding(toLength: 11, withPad: " ", startingAt: 0),
                          row: row, column: x, role: isSelected ? .selected : role(e.kind))
            var who: [String] = []
            if FleetRows.isFleet(data), let instance = e.instance { who.append("[\(instance)]") }
            if let r = e.routeID { who.append("route \(r)") }
            if let c = e.clientID { who.append(c) } else if let r = e.remote { who.append(r) }
            // The node once: most messages already name it ("proxied to …"), and at 80 columns the end matters.
            if let n = e.node, !e.message.contains(n) { who.append("→ \(n)") }
            let line = (who.isEmpty ? "" : who.joined(separator: " ") + ": ") + e.message
            grid.put(line, row: row, column: x, role: isSelected ? .selected : .normal)
        }
    }

    static func role(_ kind: EngineEvent.Kind) -> Role {
        switch kind {
        case .connected: return .good
        case .disconnected: return .dim
        case .rejected, .error, .brokerRefused: return .bad
        case .upstreamFailure, .retry, .health: return .warning
        case .reload, .note: return .accent
        }
    }
}

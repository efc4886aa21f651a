import ProxyControl

/// View 1: one row per relayed connection.
enum ConnectionsView {
    static let columns = [
        Column(title: "CLIENT ID", minWidth: 14, flex: 3, priority: 10),
        Column(title: "REMOTE", minWidth: 15, flex: 1, priority: 6),
        Column(title: "ROUTE", minWidth: 6, flex: 1, priority: 4),
        Column(title: "NODE", minWidth: 15, flex: 2, priority: 9),
        Column(title: "MQTT", minWidth: 5, priority: 5),
        Column(title: "TLS", minWidth: 12, flex: 2, priority: 1),
        Column(title: "AGE", minWidth: 6, priority: 7, rightAligned: true),
        Column(title: "IN", minWidth: 6, priority: 3, rightAligned: true),
        Column(title: "OUT", minWidth: 6, priority: 2, rightAligned: true),
    ]
    /// Attached to several instances: which one relays the connection.
    static let instanceColumn = Column(title: "INSTANCE", minWidth: 8, flex: 1, priority: 8)
    /// Which column each sort index orders by.
    static let sortColumnIndex = [0, 1, 2, 3, 4, 6, 7, 8]

    static func draw(_ state: ConsoleState, _ data: ConsoleData, _ grid: inout CellGrid, rows: Range<Int>) {
        let items = ViewRows.connections(state, data)
        let fleet = FleetRows.isFleet(data)
        let columns = fleet ? Self.columns + [Self.instanceColumn] : Self.columns
        let lost = FleetRows.lost(data)
        let layout = Table.layout(columns, width: grid.width)
        var titles = columns.map(\.title)
        let sortIndex = sortColumnIndex[state.sortColumn[.connections] ?? 0]
        titles[sortIndex] += (state.sortReversed[.connections] ?? false) ? "▲" : "▼"
        grid.fill(row: rows.lowerBound, role: .header)
        Table.drawRow(&grid, row: rows.lowerBound, layout: layout, columns: columns, values: titles, role: .header)
        let bodyRows = (rows.lowerBound + 1)..<rows.upperBound
        if items.isEmpty {
            let text = state.filter[.connections] == nil ? "no relayed connections yet" : "no connection matches the filter"
            grid.put(text, row: bodyRows.lowerBound, column: 1, role: .dim)
            return
        }
        let selected = min(state.selection[.connections] ?? 0, items.count - 1)
        let first = Scrolling.firstRow(selected: selected, count: items.count, visible: bodyRows.count)
        for (offset, c) in items[first...].prefix(bodyRows.count).enumerated() {
            let row = bodyRows.lowerBound + offset
            grid.itemRows[row] = first + offset
            let values = [
                ViewRows.clientLabel(c), "\(c.remoteAddress):\(c.remotePort)", c.routeID, c.node,
                ViewRows.version(c.protocolLevel), ViewRows.tlsText(c.tls), Format.duration(data.now - c.startedAt),
                Format.bytes(c.bytesIn), Format.bytes(c.bytesOut),
            ] + (fleet ? [(c.instance ?? "?") + (lost.contains(c.instance ?? "") ? " ✗" : "")] : [])
            let isSelected = first + offset == selected
            // A lost instance's connections are its last known ones: greyed.
            let stale = c.instance.map(lost.contains) ?? false
            if isSelected { grid.fill(row: row, role: .selected) }
            Table.drawRow(&grid, row: row, layout: layout, columns: columns, values: values,
                          role: isSelected ? .selected : (stale ? .dim : .normal),
                          roles: isSelected || stale ? [] : [c.clientID == nil ? .dim : .accent])
        }
    }
}

/// Keeps the selected row on screen.
enum Scrolling {
    static func firstRow(selected: Int, count: Int, visible: Int) -> Int {
        guard visible > 0, count > visible else { return 0 }
        return min(max(0, selected - visible / 2), count - visible)
    }
}

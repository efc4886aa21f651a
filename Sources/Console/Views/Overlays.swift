import Foundation
import ProxyControl

/// Boxes drawn over the current view: help, confirmations, connection detail, the route form, the
/// rebalance preview.
enum Overlays {
    static func draw(_ overlay: Overlay, _ state: ConsoleState, _ data: ConsoleData, _ grid: inout CellGrid) {
        switch overlay {
        case .help: HelpBox.draw(state, &grid)
        case .confirm(let d): confirm(d, &grid)
        case .detail(let id): detail(id, data, &grid)
        case .form(let f): form(f, &grid)
        case .rebalance(let d): rebalance(d, &grid)
        case .weight(let p): weight(p, &grid)
        case .drain(let f): drain(f, &grid)
        }
    }

    /// Frames a box of `lines` and returns nothing; lines longer than the box are clipped.
    static func box(_ title: String, _ lines: [(String, Role)], _ grid: inout CellGrid, minWidth: Int = 30) {
        let inner = min(grid.width - 4, max(minWidth, lines.map { CellGrid.displayWidth($0.0) }.max() ?? 0,
                                            CellGrid.displayWidth(title) + 4))
        let height = min(grid.height - 2, lines.count + 2)
        let left = max(0, (grid.width - inner - 2) / 2)
        let top = max(0, (grid.height - height) / 2)
        grid.fill(row: top, column: left, count: inner + 2, character: "─", role: .border)
        grid.put("┌", row: top, column: left, role: .border)
        grid.put("┐", row: top, column: left + inner + 1, role: .border)
        grid.put(" \(title) ", row: top, column: left + 2, role: .header, maxWidth: inner - 2)
        for i in 0..<(height - 2) {
            let row = top + 1 + i
            grid.fill(row: row, column: left, count: inner + 2, role: .normal)
            grid.put("│", row: row, column: left, role: .border)
            grid.put("│", row: row, column: left + inner + 1, role: .border)
            if lines.indices.contains(i) {
                grid.put(lines[i].0, row: row, column: left + 1, role: lines[i].1, maxWidth: inner)
            }
        }
        let bottom = top + height - 1
        grid.fill(row: bottom, column: left, count: inner + 2, character: "─", role: .border)
        grid.put("└", row: bottom, column: left, role: .border)
        grid.put("┘", row: bottom, column: left + inner + 1, role: .border)
    }

    /// The help text, generated from the key table.
    static func helpLines(readonly: Bool, demo: Bool = false) -> [(String, Role)] {
        var lines: [(String, Role)] = []
        for b in KeyTable.bindings where demo || !b.demoOnly {
            let keys = b.keys.map(KeyTable.name).joined(separator: "/")
            let scope = b.views.isEmpty ? "" : " (" + b.views.map(\.title).joined(separator: ", ") + ")"
            let off = b.mutates && readonly ? " [read-only: off]" : ""
            lines.append((keys.padding(toLength: 12, withPad: " ", startingAt: 0) + b.help + scope + off,
                          b.mutates && readonly ? .dim : .normal))
        }
        lines.append(("Esc".padding(toLength: 12, withPad: " ", startingAt: 0) + "clear the filter / close a box", .normal))
        return lines
    }

    static func weight(_ p: WeightPrompt, _ grid: inout CellGrid) {
        var lines: [(String, Role)] = [
            ("node \(p.node) on route \(p.routeID)", .normal),
            ("new weight: \(p.text)▏", .accent),
            ("Enter previews the clients that would move · Esc cancels", .dim),
        ]
        if let e = p.error { lines.append((e, .bad)) }
        box("Change weight", lines, &grid, minWidth: 40)
    }

    static func drain(_ f: DrainForm, _ grid: inout CellGrid) {
        func field(_ label: String, _ value: String, _ which: DrainForm.Field, _ hint: String) -> [(String, Role)] {
            let focused = f.focus == which
            var out = [("\(focused ? "▸" : " ") \(label) \(value)\(focused ? "▏" : "")", focused ? Role.input : .normal)]
            if focused { out.append(("   \(hint)", .dim)) }
            return out
        }
        var lines: [(String, Role)] = [("new clients the ring gives \(f.node) go to the next ring node", .normal), ("", .normal)]
        lines += field("clients/s  ", f.rate, .rate, "existing clients moved per second; empty keeps them")
        lines += field("server ref ", f.reference, .reference, "MQTT 5 clients are told to use this host:port (optional)")
        lines.append(("", .normal))
        if let p = f.preview {
            lines.append(("its \(p.considered) chash client(s) would go to:", .normal))
            for (to, count) in Dictionary(grouping: p.moves, by: { $0.to ?? "(no node)" }).mapValues(\.count)
                .sorted(by: { $0.value > $1.value }).prefix(max(1, grid.height - 16))
            {
                lines.append(("  \(to)  \(count)", .accent))
            }
        } else {
            lines.append(("working out where its clients would go…", .dim))
        }
        if let e = f.error { lines.append((e, .bad)) }
        lines.append(("Tab switches · Enter drains · Esc cancels", .dim))
        box("Drain \(f.node)", lines, &grid, minWidth: 56)
    }

    static func confirm(_ d: ConfirmDialog, _ grid: inout CellGrid) {
        let buttons = (d.yes ? "[ Yes ]   No  " : "  Yes   [ No ]")
        box(d.title, [(d.message, .normal), ("", .normal), (buttons, .accent),
                      ("y yes · n/Esc no · ←/→ choose · Enter answers", .dim)], &grid)
    }

    static func detail(_ id: UInt64, _ data: ConsoleData, _ grid: inout CellGrid) {
        guard let c = data.engine.connections.first(where: { $0.id == id }) else {
            box("Connection", [("connection \(id) has closed", .dim)], &grid)
            return
        }
        var lines: [(String, Role)] = [
            ("client id     \(c.clientID ?? "<empty>")", .accent),
            ("username      \(c.username ?? "-")", .normal),
            ("MQTT          \(ViewRows.version(c.protocolLevel))", .normal),
            ("keep-alive    \(c.keepAlive.map { "\($0) s" } ?? "-")", .normal),
            ("clean start   \(c.cleanStart.map { $0 ? "yes" : "no" } ?? "-")", .normal),
            ("remote        \(c.remoteAddress):\(c.remotePort)" + (c.via.map { " via \($0) (PROXY)" } ?? ""), .normal),
            ("local         \(c.localAddress):\(c.localPort)", .normal),
            ("route         \(c.routeID)", .normal),
            ("node          \(c.node)", .good),
            ("hash key      \(c.hashKey ?? "- (not chash)")", .normal),
            ("ring point    \(c.ringPoint.map(String.init) ?? "-")", .normal),
            ("attempts      \(c.attempts)", c.attempts > 1 ? .warning : .normal),
            ("age           \(Format.duration(data.now - c.startedAt)) · idle limit \(Format.duration(c.idleLimit))", .normal),
            ("broker said   " + (c.brokerConnack.map { code in
                code == 0 ? "CONNACK 0x00 accepted" : "CONNACK \(c.brokerRefusal ?? ConnackLabel.text(code))"
            } ?? "- (no CONNACK yet)"), (c.brokerConnack ?? 0) == 0 ? .normal : .bad),
            ("bytes         in \(Format.bytes(c.bytesIn)) · out \(Format.bytes(c.bytesOut))", .normal),
        ]
        if let t = c.tls {
            lines.append(("TLS           \(t.version) · SNI \(t.sni ?? "none") · ssl \(t.sslID ?? "-")", .normal))
            if let subject = t.clientSubject {
                lines.append(("client cert   \(subject)", .good))
                if !t.clientSANs.isEmpty { lines.append(("client SANs   \(t.clientSANs.joined(separator: ", "))", .normal)) }
            }
        } else {
            lines.append(("TLS           no (plaintext)", .dim))
        }
        box("Connection \(c.id)", lines, &grid, minWidth: 44)
    }

    static func form(_ f: RouteForm, _ grid: inout CellGrid) {
        var lines: [(String, Role)] = []
        for field in RouteForm.Field.allCases {
            let focused = field == f.focus
            let value = f.value(field) + (focused ? "▏" : "")
            let label = field.label.padding(toLength: 15, withPad: " ", startingAt: 0)
            lines.append(("\(focused ? "▸" : " ") \(label) \(value)", focused ? .input : .normal))
            if focused { lines.append(("                  \(field.hint)", .dim)) }
        }
        lines.append(("", .normal))
        lines.append((f.error.map { "✗ \($0)" } ?? "✓ valid", f.error == nil ? .good : .bad))
        lines.append(("Tab/↓ next · Shift-Tab/↑ previous · Enter save · Esc cancel", .dim))
        box(f.editing.map { "Edit route \($0)" } ?? "Add route", lines, &grid, minWidth: 56)
    }

    static func rebalance(_ d: RebalanceDialog, _ grid: inout CellGrid) {
        let p = d.preview
        var lines: [(String, Role)] = [
            ("\(p.moves.count) of \(p.considered) connected clients would move", p.moves.isEmpty ? .good : .warning),
        ]
        // The summary first: per route, then per (from → to) pair, largest first; then the clients one by one.
        let summary = summaryLines(p, limit: max(2, (grid.height - 10) / 3))
        lines += summary
        lines.append(("", .normal))
        let room = max(1, grid.height - 10 - summary.count)
        if !p.moves.isEmpty { lines.append(("clients (↑/↓):", .dim)) }
        for m in p.moves.dropFirst(d.scroll).prefix(room) {
            lines.append(("  \(m.clientID ?? "<empty> \(m.hashKey)"): \(m.from) → \(m.to ?? "(no node)")", .normal))
        }
        if p.moves.count > room + d.scroll { lines.append(("… \(p.moves.count - room - d.scroll) more (↓)", .dim)) }
        lines.append(("", .normal))
        lines.append(("Enter/a apply · Esc/c cancel — clients move when they reconnect", .dim))
        box("Apply change to route \(d.routeID)?", lines, &grid, minWidth: 50)
    }

    /// A preview's summary: one line per route with moving clients, under it its (from → to) pairs, at most
    /// `limit` pair lines in all (then how many pairs are left out).
    static func summaryLines(_ p: RebalancePreview, limit: Int) -> [(String, Role)] {
        guard !p.moves.isEmpty else { return [] }
        var lines: [(String, Role)] = []
        let flows = p.flows
        var shown = 0
        for (routeID, count) in p.movesPerRoute {
            lines.append(("route \(routeID): \(count) move", .accent))
            for f in flows where f.routeID == routeID {
                guard shown < limit else { continue }
                shown += 1
                lines.append(("  \(f.from) → \(f.to ?? "(no node)")  \(f.count)", .normal))
            }
        }
        if flows.count > shown { lines.append(("  … \(flows.count - shown) more pair(s)", .dim)) }
        return lines
    }
}

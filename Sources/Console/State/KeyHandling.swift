import ProxyControl
import ProxyModel

/// Key handling as a pure function of state, key and data: `(state, key) → (state, commands)`.
enum KeyHandling {
    /// Rows a page moves.
    static let page = 10

    static func reduce(_ state: inout ConsoleState, _ key: Key, data: ConsoleData) -> [ConsoleCommand] {
        if key == .resize { return [] }
        if case .click(let row, _) = key { return click(&state, row: row, data: data) }
        if let draft = state.filterDraft { return editFilter(&state, draft: draft, key) }
        if let overlay = state.overlay { return handleOverlay(&state, overlay, key, data: data) }
        if state.colonPending {
            state.colonPending = false
            if key == .char("q") { return quitRequested(&state, data) }
        }
        if key == .escape {
            if state.filter[state.view] != nil {
                state.filter[state.view] = nil
                state.status = StatusMessage(text: "filter cleared", isError: false)
            }
            return []
        }
        if key == .interrupt { return [.quit] }
        guard let binding = KeyTable.binding(for: key, in: state.view, demo: state.demo) else { return [] }
        if binding.mutates, state.readonly {
            state.status = StatusMessage(text: "read-only console: \(binding.label) is disabled", isError: true)
            return []
        }
        return perform(&state, binding.action, data: data)
    }

    static func perform(_ state: inout ConsoleState, _ action: Action, data: ConsoleData) -> [ConsoleCommand] {
        var count: Int { ViewRows.count(state, data) }
        switch action {
        case .help:
            state.overlay = .help
            state.helpScroll = 0
        case .quit: return quitRequested(&state, data)
        case .colon: state.colonPending = true
        case .pause:
            state.paused.toggle()
            state.status = StatusMessage(text: state.paused ? "paused — p resumes" : "resumed", isError: false)
        case .view(let v): state.view = v
        case .nextView: state.view = ViewKind(rawValue: state.view.rawValue % 4 + 1)!
        case .previousView: state.view = ViewKind(rawValue: (state.view.rawValue + 2) % 4 + 1)!
        case .up: move(&state, -1, count)
        case .down: move(&state, 1, count)
        case .pageUp: move(&state, -page, count)
        case .pageDown: move(&state, page, count)
        case .top: move(&state, Int.min / 2, count)
        case .bottom: move(&state, Int.max / 2, count)
        case .filter: state.filterDraft = state.filter[state.view] ?? ""
        case .invertFilter:
            guard var current = state.filter[state.view] else {
                state.filterDraft = "!"
                return []
            }
            if current.hasPrefix("!") { current.removeFirst() } else { current = "!" + current }
            state.filter[state.view] = current.isEmpty ? nil : current
            state.selected = 0
            state.status = StatusMessage(text: current.hasPrefix("!") ? "showing rows that do not match"
                                                                      : "showing rows that match", isError: false)
        case .instanceFilter:
            let names = data.engine.instances.map(\.name)
            guard names.count > 1 else {
                state.status = StatusMessage(text: "not attached to several instances", isError: true)
                return []
            }
            let next = state.instanceFilter.flatMap(names.firstIndex(of:)).map { $0 + 1 } ?? 0
            state.instanceFilter = names.indices.contains(next) ? names[next] : nil
            state.selection = [:]
            state.status = StatusMessage(text: state.instanceFilter.map { "showing instance \($0) only" }
                ?? "showing every instance", isError: false)
        case .copyClientID:
            let rows = ViewRows.connections(state, data)
            guard rows.indices.contains(state.selected) else { return [] }
            guard let id = rows[state.selected].clientID else {
                state.status = StatusMessage(text: "this client has an empty client id", isError: true)
                return []
            }
            state.status = StatusMessage(text: "copied client id \(id) (OSC 52)", isError: false)
            return [.copy(id)]
        case .toggleReadonly:
            if state.readonly, state.readonlyLocked {
                state.status = StatusMessage(text: "read-only: the console was started with --readonly", isError: true)
                return []
            }
            state.readonly.toggle()
            state.status = StatusMessage(text: state.readonly ? "read-only: changes are refused (R allows them again)"
                                                              : "changes allowed", isError: false)
        case .dumpScreen:
            return [.dumpScreen]
        case .sort:
            let names = state.view == .connections ? ViewRows.connectionSortNames : ViewRows.routeSortNames
            let next = ((state.sortColumn[state.view] ?? 0) + 1) % names.count
            state.sortColumn[state.view] = next
            state.status = StatusMessage(text: "sorted by \(names[next])", isError: false)
        case .sortReverse:
            state.sortReversed[state.view] = !(state.sortReversed[state.view] ?? false)
        case .open:
            let rows = ViewRows.connections(state, data)
            if rows.indices.contains(state.selected) { state.overlay = .detail(connectionID: rows[state.selected].id) }
        case .disconnect:
            let rows = ViewRows.connections(state, data)
            guard rows.indices.contains(state.selected) else { return [] }
            let c = rows[state.selected]
            state.overlay = .confirm(ConfirmDialog(
                title: "Disconnect client", message: "Close \(ViewRows.clientLabel(c)) (\(c.node))?",
                action: .disconnect(connectionID: c.id)))
        case .addRoute:
            state.overlay = .form(RouteForm.new(suggestedID: suggestedID(data)))
        case .editRoute:
            guard let (id, stored) = selectedRoute(state, data) else { return noRoute(&state) }
            state.overlay = .form(RouteForm.edit(id: id, raw: stored.raw,
                                                 upstream: data.resources.upstream(for: stored.value)))
        case .editRouteInEditor:
            guard let (id, stored) = selectedRoute(state, data) else { return noRoute(&state) }
            var json = stored.raw
            json["create_time"] = nil
            return [.editRouteInEditor(id: id, json: stripped(json))]
        case .deleteRoute:
            guard let (id, _) = selectedRoute(state, data) else { return noRoute(&state) }
            state.overlay = .confirm(ConfirmDialog(title: "Delete route",
                                                   message: "Delete stream route \(id)? New connections stop matching it.",
                                                   action: .deleteRoute(id: id)))
        case .killNode, .reviveNode, .addNode, .removeNode, .changeWeight, .hangNode, .unhangNode:
            return performDemo(&state, action, data: data)
        case .drainNode, .undrainNode:
            return performNode(&state, action, data: data)
        }
        return []
    }

    /// `q`: at once when no connection is open or the console is attached (the instances go on without it);
    /// otherwise asks first (default No), since quitting ends them.
    static func quitRequested(_ state: inout ConsoleState, _ data: ConsoleData) -> [ConsoleCommand] {
        let open = data.engine.openConnections
        guard open > 0, !data.engine.isAttached else { return [.quit] }
        state.overlay = .confirm(ConfirmDialog(
            title: "Quit", message: "\(open) connection\(open == 1 ? "" : "s") open — quit and disconnect them?",
            action: .endConnectionsAndQuit))
        return []
    }

    static func noRoute(_ state: inout ConsoleState) -> [ConsoleCommand] {
        state.status = StatusMessage(text: "no route selected", isError: true)
        return []
    }

    /// Removes server-set fields before a route is shown for editing.
    static func stripped(_ json: JSONValue) -> JSONValue {
        guard case .object(var d) = json else { return json }
        for k in ["create_time", "update_time"] { d.removeValue(forKey: k) }
        return .object(d)
    }

    static func move(_ state: inout ConsoleState, _ delta: Int, _ count: Int) {
        state.selected = min(max(0, state.selected + delta), max(0, count - 1))
        if state.view == .log { state.followLog = state.selected >= count - 1 }
    }

    static func selectedRoute(_ state: ConsoleState, _ data: ConsoleData) -> (String, StoredObject<StreamRoute>)? {
        switch state.view {
        case .routes:
            let rows = ViewRows.routes(state, data)
            guard rows.indices.contains(state.selected) else { return nil }
            return (rows[state.selected].stored.id, rows[state.selected].stored)
        case .mappings:
            let rows = ViewRows.mappingNodes(state, data)
            guard rows.indices.contains(state.selected),
                  let stored = data.resources.streamRoutes[rows[state.selected].routeID] else { return nil }
            return (stored.id, stored)
        default:
            return nil
        }
    }

    static func suggestedID(_ data: ConsoleData) -> String {
        var n = 1
        while data.resources.streamRoutes[String(n)] != nil { n += 1 }
        return String(n)
    }

    /// A click selects the list row under it (in the last frame); clicks elsewhere, or over a box, do nothing.
    static func click(_ state: inout ConsoleState, row: Int, data: ConsoleData) -> [ConsoleCommand] {
        guard state.overlay == nil, state.filterDraft == nil, let index = state.itemRows[row] else { return [] }
        let count = ViewRows.count(state, data)
        state.selected = min(index, max(0, count - 1))
        if state.view == .log { state.followLog = state.selected >= count - 1 }
        return []
    }

    static func editFilter(_ state: inout ConsoleState, draft: String, _ key: Key) -> [ConsoleCommand] {
        switch key {
        case .escape:
            state.filterDraft = nil
            state.filter[state.view] = nil
        case .enter:
            state.filterDraft = nil
            state.filter[state.view] = draft.isEmpty ? nil : draft
            state.selected = 0
        case .backspace, .delete:
            state.filterDraft = String(draft.dropLast())
            state.filter[state.view] = state.filterDraft!.isEmpty ? nil : state.filterDraft
        case .char(let c):
            state.filterDraft = draft + String(c)
            state.filter[state.view] = state.filterDraft
            state.selected = 0
        case .interrupt: return [.quit]
        default: break
        }
        return []
    }
}

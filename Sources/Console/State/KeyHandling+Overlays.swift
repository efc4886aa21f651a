import ProxyControl
import ProxyModel

extension KeyHandling {
    static func handleOverlay(_ state: inout ConsoleState, _ overlay: Overlay, _ key: Key, data: ConsoleData)
        -> [ConsoleCommand]
    {
        if key == .interrupt { return [.quit] }
        switch overlay {
        case .help:
            scrollHelp(&state, key)
        case .detail:
            if [.escape, .enter, .char("q"), .char("?")].contains(key) { state.overlay = nil }
        case .confirm(var dialog):
            switch key {
            case .left, .right, .tab, .backTab, .char("h"), .char("l"):
                dialog.yes.toggle()
                state.overlay = .confirm(dialog)
            case .char("y"), .char("Y"):
                state.overlay = nil
                return [dialog.action]
            case .char("n"), .char("N"), .escape:
                state.overlay = nil
                state.status = StatusMessage(text: "\(dialog.title.lowercased()): cancelled", isError: false)
            case .enter:
                state.overlay = nil
                if dialog.yes { return [dialog.action] }
                state.status = StatusMessage(text: "\(dialog.title.lowercased()): cancelled", isError: false)
            default: break
            }
        case .form(var form):
            return handleForm(&state, &form, key, data: data)
        case .weight(var prompt):
            return handleWeight(&state, &prompt, key, data: data)
        case .drain(var form):
            return handleDrain(&state, &form, key)
        case .rebalance(var dialog):
            switch key {
            case .enter, .char("y"), .char("a"):
                state.overlay = nil
                return [.saveRoute(id: dialog.routeID, body: dialog.body)]
            case .escape, .char("n"), .char("c"):
                state.overlay = nil
                state.status = StatusMessage(text: "change of route \(dialog.routeID) cancelled", isError: false)
            case .down, .char("j"), .wheelDown:
                dialog.scroll = min(dialog.scroll + 1, max(0, dialog.preview.moves.count - 1))
                state.overlay = .rebalance(dialog)
            case .up, .char("k"), .wheelUp:
                dialog.scroll = max(0, dialog.scroll - 1)
                state.overlay = .rebalance(dialog)
            default: break
            }
        }
        return []
    }

    static func handleForm(_ state: inout ConsoleState, _ form: inout RouteForm, _ key: Key, data: ConsoleData)
        -> [ConsoleCommand]
    {
        let fields = RouteForm.Field.allCases
        switch key {
        case .escape:
            state.overlay = nil
            state.pendingSave = nil
            state.status = StatusMessage(text: "route form closed without saving", isError: false)
            return []
        case .tab, .down:
            form.focus = fields[(form.focus.rawValue + 1) % fields.count]
        case .backTab, .up:
            form.focus = fields[(form.focus.rawValue + fields.count - 1) % fields.count]
        case .backspace, .delete:
            var v = form.value(form.focus)
            if !v.isEmpty { v.removeLast() }
            form.values[form.focus] = v
        case .char(let c):
            if form.editing != nil, form.focus == .id { break }
            form.values[form.focus] = form.value(form.focus) + String(c)
        case .enter:
            switch form.body() {
            case .failure(let error):
                form.error = error.message
            case .success(let (id, body)):
                form.error = nil
                state.overlay = .form(form)
                if let editing = form.editing, chashChanged(data, id: editing, body: body) {
                    state.pendingSave = PendingSave(id: id, body: body)
                    return [.previewRebalance(id: id, body: body)]
                }
                state.overlay = nil
                return [.saveRoute(id: id, body: body)]
            }
        default: break
        }
        if key != .enter, case .success = form.body() { form.error = nil }
        state.overlay = .form(form)
        return []
    }

    /// Whether saving `body` would change a chash upstream's nodes or weights (so clients may move).
    static func chashChanged(_ data: ConsoleData, id: String, body: JSONValue) -> Bool {
        guard let old = data.resources.streamRoutes[id]?.value,
              let oldUp = data.resources.upstream(for: old),
              let new = try? StreamRoute(json: body, id: id), let newUp = new.upstream ?? data.resources.upstream(for: new)
        else { return false }
        guard oldUp.type == .chash || newUp.type == .chash else { return false }
        return oldUp.nodes != newUp.nodes || oldUp.type != newUp.type || oldUp.key != newUp.key
    }

    static func editorReturned(_ state: inout ConsoleState, id: String?, text: String?, data: ConsoleData)
        -> [ConsoleCommand]
    {
        guard let text else {
            state.status = StatusMessage(text: "editor closed without changes", isError: false)
            return []
        }
        let json: JSONValue
        do { json = try JSONParser.parse(text) } catch {
            state.status = StatusMessage(text: "not saved: \(error.description)", isError: true)
            return []
        }
        let route: StreamRoute
        do { route = try StreamRoute(json: json, id: id) } catch {
            state.status = StatusMessage(text: "not saved: \(error.message)", isError: true)
            return []
        }
        if chashChanged(data, id: route.id, body: json) {
            state.pendingSave = PendingSave(id: route.id, body: json)
            state.status = StatusMessage(text: "working out which clients would move…", isError: false)
            return [.previewRebalance(id: route.id, body: json)]
        }
        state.overlay = .confirm(ConfirmDialog(
            title: "Save route", message: "Save the edited stream route \(route.id)?",
            action: .saveRoute(id: route.id, body: json)))
        return []
    }

    static func previewReady(_ state: inout ConsoleState, _ preview: RebalancePreview) {
        guard let pending = state.pendingSave else { return }
        state.pendingSave = nil
        state.status = nil
        state.overlay = .rebalance(RebalanceDialog(routeID: pending.id, body: pending.body, preview: preview))
    }

    /// The help box scrolls with the usual movement keys (the renderer keeps it within the text); the keys that
    /// opened it, Enter and Esc close it.
    private static func scrollHelp(_ state: inout ConsoleState, _ key: Key) {
        switch key {
        case .escape, .enter, .char("q"), .char("?"): state.overlay = nil
        case .up, .char("k"), .wheelUp: state.helpScroll -= 1
        case .down, .char("j"), .wheelDown: state.helpScroll += 1
        case .pageUp, .char("b"): state.helpScroll -= page
        case .pageDown, .char(" "): state.helpScroll += page
        case .home, .char("g"): state.helpScroll = 0
        case .end, .char("G"): state.helpScroll = Int.max / 2
        default: break
        }
        state.helpScroll = max(0, state.helpScroll)
    }
}

import ProxyControl
import ProxyModel

/// Node keys in Clients → Nodes: `D` opens the drain box (with where the node's clients would go), `U` ends a
/// drain.
extension KeyHandling {
    static func performNode(_ state: inout ConsoleState, _ action: Action, data: ConsoleData) -> [ConsoleCommand] {
        let rows = ViewRows.mappingNodes(state, data)
        guard rows.indices.contains(state.selected) else {
            state.status = StatusMessage(text: "select a node first", isError: true)
            return []
        }
        let node = ViewRows.health(of: rows[state.selected].node, data)?.node ?? rows[state.selected].address
        switch action {
        case .drainNode:
            var form = DrainForm(node: node)
            if let drain = ViewRows.health(of: rows[state.selected].node, data)?.drain {
                form.rate = drain.evictPerSecond.map { Format.number($0) } ?? ""
                form.reference = drain.serverReference ?? ""
            }
            state.overlay = .drain(form)
            return [.previewDrain(node: node)]
        case .undrainNode:
            guard ViewRows.health(of: rows[state.selected].node, data)?.draining == true else {
                state.status = StatusMessage(text: "\(node) is not drained", isError: true)
                return []
            }
            state.status = StatusMessage(text: "ending the drain of \(node)…", isError: false)
            return [.undrain(node: node)]
        default:
            return []
        }
    }

    static func handleDrain(_ state: inout ConsoleState, _ form: inout DrainForm, _ key: Key) -> [ConsoleCommand] {
        switch key {
        case .escape:
            state.overlay = nil
            state.status = StatusMessage(text: "drain of \(form.node) cancelled", isError: false)
            return []
        case .tab, .backTab, .up, .down:
            form.focus = form.focus == .rate ? .reference : .rate
        case .backspace, .delete:
            if form.focus == .rate, !form.rate.isEmpty { form.rate.removeLast() }
            if form.focus == .reference, !form.reference.isEmpty { form.reference.removeLast() }
        case .char(let c):
            if form.focus == .rate {
                if (c.isNumber || c == "."), form.rate.count < 8 { form.rate.append(c) }
            } else if form.reference.count < 255, !c.isWhitespace {
                form.reference.append(c)
            }
        case .enter:
            var rate: Double?
            if !form.rate.isEmpty {
                guard let r = Double(form.rate), r > 0 else {
                    form.error = "clients per second: a number > 0, or empty to keep the existing clients"
                    break
                }
                rate = r
            }
            state.overlay = nil
            let moving = rate.map { "moving \(Format.number($0)) client(s)/s" } ?? "keeping its clients"
            state.status = StatusMessage(text: "draining \(form.node), \(moving)…", isError: false)
            return [.drain(node: form.node, evictPerSecond: rate,
                           serverReference: form.reference.isEmpty ? nil : form.reference)]
        default:
            break
        }
        state.overlay = .drain(form)
        return []
    }

    /// The drain preview arrived: shown in the drain box if it is still open for that node.
    static func drainPreviewReady(_ state: inout ConsoleState, node: String, _ preview: RebalancePreview) {
        guard case .drain(var form) = state.overlay, form.node == node else { return }
        form.preview = preview
        state.overlay = .drain(form)
    }
}

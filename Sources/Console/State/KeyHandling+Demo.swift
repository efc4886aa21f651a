import ProxyControl
import ProxyModel

/// Demo mode (`mqtt-proxy demo`), in Clients → Nodes: kill and revive the selected broker, add a broker, remove
/// a node, change a weight. Route changes go through the same rebalance preview as any other edit.
extension KeyHandling {
    static func performDemo(_ state: inout ConsoleState, _ action: Action, data: ConsoleData) -> [ConsoleCommand] {
        let rows = ViewRows.mappingNodes(state, data)
        guard rows.indices.contains(state.selected) else {
            state.status = StatusMessage(text: "select a node first", isError: true)
            return []
        }
        let row = rows[state.selected]
        switch action {
        case .killNode:
            state.status = StatusMessage(text: "killing the broker at \(row.address)…", isError: false)
            return [.demo(.kill(node: row.address))]
        case .reviveNode:
            state.status = StatusMessage(text: "reviving the broker at \(row.address)…", isError: false)
            return [.demo(.revive(node: row.address))]
        case .addNode:
            state.status = StatusMessage(text: "starting a broker for route \(row.routeID)…", isError: false)
            return [.demo(.addBroker(routeID: row.routeID))]
        case .removeNode:
            guard let nodes = nodes(of: row.routeID, data), nodes.count > 1 else {
                state.status = StatusMessage(text: "the last node of a route cannot be removed", isError: true)
                return []
            }
            return propose(&state, routeID: row.routeID, data: data,
                           nodes: nodes.filter { $0.address != row.address })
        case .changeWeight:
            state.overlay = .weight(WeightPrompt(routeID: row.routeID, node: row.address, text: "\(row.node.weight)"))
        case .hangNode:
            state.status = StatusMessage(text: "freezing the broker at \(row.address)…", isError: false)
            return [.demo(.hang(node: row.address))]
        case .unhangNode:
            state.status = StatusMessage(text: "letting the broker at \(row.address) answer again…", isError: false)
            return [.demo(.unhang(node: row.address))]
        default:
            break
        }
        return []
    }

    static func handleWeight(_ state: inout ConsoleState, _ prompt: inout WeightPrompt, _ key: Key,
                             data: ConsoleData) -> [ConsoleCommand]
    {
        switch key {
        case .escape:
            state.overlay = nil
            state.status = StatusMessage(text: "weight unchanged", isError: false)
            return []
        case .backspace, .delete:
            if !prompt.text.isEmpty { prompt.text.removeLast() }
        case .char(let c) where c.isNumber:
            if prompt.text.count < 6 { prompt.text.append(c) }
        case .enter:
            guard let weight = Int(prompt.text), (0...100_000).contains(weight) else {
                prompt.error = "a weight is a whole number from 0 to 100000"
                break
            }
            guard var nodes = nodes(of: prompt.routeID, data),
                  let i = nodes.firstIndex(where: { $0.address == prompt.node })
            else {
                state.overlay = nil
                state.status = StatusMessage(text: "\(prompt.node) is no longer on route \(prompt.routeID)", isError: true)
                return []
            }
            nodes[i].weight = weight
            state.overlay = nil
            return propose(&state, routeID: prompt.routeID, data: data, nodes: nodes)
        default:
            break
        }
        state.overlay = .weight(prompt)
        return []
    }

    /// The route body with `nodes` as its inline upstream's nodes, held back until the preview is seen.
    static func propose(_ state: inout ConsoleState, routeID: String, data: ConsoleData, nodes: [UpstreamNode])
        -> [ConsoleCommand]
    {
        guard let body = routeBody(routeID, data: data, nodes: nodes) else {
            state.status = StatusMessage(text: "route \(routeID) uses a shared upstream; change it through the admin API",
                                         isError: true)
            return []
        }
        state.pendingSave = PendingSave(id: routeID, body: body)
        state.status = StatusMessage(text: "working out which clients would move…", isError: false)
        return [.previewRebalance(id: routeID, body: body)]
    }

    /// Route `routeID`'s stored body with its inline upstream's nodes replaced (nil for `upstream_id` routes).
    public static func routeBody(_ routeID: String, data: ConsoleData, nodes: [UpstreamNode]) -> JSONValue? {
        guard let stored = data.resources.streamRoutes[routeID], stored.value.upstream != nil,
              case .object(var upstream)? = stored.raw["upstream"]
        else { return nil }
        upstream["nodes"] = .array(nodes.map { n in
            var node: JSONValue = ["host": .string(n.host), "port": .int(n.port), "weight": .int(n.weight)]
            if n.priority != 0 { node["priority"] = .int(n.priority) }
            return node
        })
        var body = stripped(stored.raw)
        body["upstream"] = .object(upstream)
        return body
    }

    static func nodes(of routeID: String, _ data: ConsoleData) -> [UpstreamNode]? {
        guard let route = data.resources.streamRoutes[routeID]?.value else { return nil }
        return data.resources.upstream(for: route)?.nodes
    }
}

import Foundation
import LoadBalancing
import ProxyModel
import ProxyControl

extension ProxyEngine {
    /// For every live chash-placed connection, where its key would go under `proposed`; does not apply
    /// anything. Nodes that are unhealthy or drained now are skipped as a new connection would skip them. Node
    /// names are resolved with the engine's resolver, off the event loops.
    public func previewRebalance(proposed: ProxyResources) async -> RebalancePreview {
        let snapshot = registry.snapshot()
        let resolver = self.resolver
        let unavailable = Set(health.nodes(active: [:]).filter { !$0.healthy || $0.draining }.map(\.node))
        return await withCheckedContinuation { cont in
            DispatchQueue.global().async {
                cont.resume(returning: ProxyEngine.preview(snapshot: snapshot, proposed: proposed, resolver: resolver,
                                                           unavailable: unavailable))
            }
        }
    }

    static func preview(snapshot: EngineSnapshot, proposed: ProxyResources, resolver: NodeResolver,
                        unavailable: Set<String> = []) -> RebalancePreview
    {
        var rings: [String: UpstreamBalancer?] = [:]
        func balancer(for routeID: String) -> UpstreamBalancer? {
            if let cached = rings[routeID] { return cached }
            var made: UpstreamBalancer?
            if let route = proposed.streamRoutes[routeID]?.value, let up = proposed.upstream(for: route),
               up.type == .chash
            {
                let nodes: [BalancerNode] = up.nodes.compactMap { node in
                    guard case .address(let ip) = resolver.resolve(node.host) else { return nil }
                    return BalancerNode(host: ip, port: node.port, weight: node.weight, priority: node.priority)
                }
                if nodes.contains(where: { $0.weight > 0 }) { made = UpstreamBalancer(kind: .chash, nodes: nodes) }
            }
            rings[routeID] = made
            return made
        }
        var considered = 0
        var moves: [RebalancePreview.Move] = []
        for conn in snapshot.connections {
            guard let key = conn.hashKey else { continue }
            considered += 1
            var to: String?
            if let b = balancer(for: conn.routeID) {
                var state = PickState()
                let skipped = NodeIndexSet(b.nodes.indices.filter { unavailable.contains(b.nodes[$0].address) })
                let pickable = NodeIndexSet(b.nodes.indices.filter { b.nodes[$0].weight > 0 })
                if !pickable.isSubset(of: skipped) { state.tried = skipped }
                if let index = b.pick(hashKey: key, state: &state) { to = b.nodes[index].address }
            }
            if to != conn.node {
                moves.append(.init(connectionID: conn.id, clientID: conn.clientID, hashKey: key,
                                   routeID: conn.routeID, from: conn.node, to: to))
            }
        }
        return RebalancePreview(considered: considered, moves: moves)
    }
}

extension ProxyEngine {
    public func previewDrain(node: String) async -> RebalancePreview {
        let connections = registry.snapshot().connections.filter { $0.node == node && $0.hashKey != nil }
        let routes = Dictionary(routeTable.routes.map { ($0.route.id, $0) }, uniquingKeysWith: { a, _ in a })
        var moves: [RebalancePreview.Move] = []
        for conn in connections {
            guard let key = conn.hashKey, let route = routes[conn.routeID], let balancer = route.balancer else { continue }
            var state = PickState()
            var excluded = route.status.excluded() ?? NodeIndexSet()
            for index in route.nodes.indices where route.nodes[index].address == node { excluded.insert(index) }
            // Excluding every pickable node excludes none (the drained node keeps its clients then).
            if !route.status.pickable.isSubset(of: excluded) { state.tried = excluded }
            let to = balancer.pick(hashKey: key, state: &state).map { route.nodes[$0].address }
            if to != conn.node {
                moves.append(.init(connectionID: conn.id, clientID: conn.clientID, hashKey: key, routeID: conn.routeID,
                                   from: conn.node, to: to))
            }
        }
        return RebalancePreview(considered: connections.count, moves: moves)
    }
}

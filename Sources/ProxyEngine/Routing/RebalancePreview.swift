import Foundation
import LoadBalancing
import ProxyModel
import ProxyControl

extension ProxyEngine {
    /// For every live chash-placed connection, where its key would go under `proposed`; does not apply
    /// anything. Node names are resolved with the engine's resolver, off the event loops.
    public func previewRebalance(proposed: ProxyResources) async -> RebalancePreview {
        let snapshot = registry.snapshot()
        let resolver = self.resolver
        return await withCheckedContinuation { cont in
            DispatchQueue.global().async {
                cont.resume(returning: ProxyEngine.preview(snapshot: snapshot, proposed: proposed, resolver: resolver))
            }
        }
    }

    static func preview(snapshot: EngineSnapshot, proposed: ProxyResources, resolver: NodeResolver) -> RebalancePreview {
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

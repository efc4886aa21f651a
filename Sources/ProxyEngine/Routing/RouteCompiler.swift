import LoadBalancing
import NIOConcurrencyHelpers
import ProxyModel

/// Turns store content into a `RouteTable`: resolves node names and builds (or reuses) balancers.
///
/// Balancers are cached by their kind and resolved node list, so a ring is rebuilt only when its node set
/// changes and round-robin / least-conn state survives unrelated edits.
public final class RouteCompiler: Sendable {
    private struct BalancerKey: Hashable {
        var kind: BalancerKind
        var nodes: [BalancerNode]
    }

    private let resolver: NodeResolver
    private let cache = NIOLockedValueBox([BalancerKey: UpstreamBalancer]())

    public init(resolver: NodeResolver) {
        self.resolver = resolver
    }

    /// Builds the table. Resolution may block on DNS: call it off the event loops.
    /// Returns the table plus one message per node that was left out.
    public func compile(_ resources: ProxyResources, version: Int) -> (RouteTable, [String]) {
        var problems: [String] = []
        var used: Set<BalancerKey> = []
        var compiled: [CompiledRoute] = []
        for stored in resources.streamRoutes.values {
            let route = stored.value
            guard let upstream = resources.upstream(for: route) else {
                problems.append("stream route \(route.id): upstream \(route.upstreamID ?? "?") not found")
                continue
            }
            var nodes: [BalancerNode] = []
            var failures: [String] = []
            for node in upstream.nodes {
                switch resolver.resolve(node.host) {
                case .address(let ip):
                    nodes.append(BalancerNode(host: ip, port: node.port, weight: node.weight, priority: node.priority))
                case .failure(let reason):
                    failures.append(reason)
                }
            }
            problems.append(contentsOf: failures.map { "stream route \(route.id): \($0)" })
            var entry = CompiledRoute(route: route, upstream: upstream, balancer: nil, unavailableReason: nil,
                                      nodeAddresses: nodes.map(\.address))
            if nodes.contains(where: { $0.weight > 0 }) {
                let key = BalancerKey(kind: BalancerKind(upstream.type), nodes: nodes)
                used.insert(key)
                entry.balancer = cache.withLockedValue { c in
                    if let hit = c[key] { return hit }
                    let b = UpstreamBalancer(kind: key.kind, nodes: nodes)
                    c[key] = b
                    return b
                }
            } else if let failure = failures.first {
                entry.unavailableReason = failure
            } else {
                entry.unavailableReason = upstream.nodes.isEmpty ? "upstream has no nodes" : "every node has weight 0"
            }
            compiled.append(entry)
        }
        cache.withLockedValue { c in c = c.filter { used.contains($0.key) } }
        return (RouteTable(version: version, routes: compiled), problems)
    }
}

extension BalancerKind {
    /// The balancer for an upstream `type`.
    init(_ type: UpstreamType) {
        switch type {
        case .roundrobin: self = .roundrobin
        case .chash: self = .chash
        case .leastConn: self = .leastConn
        }
    }
}

import LoadBalancing
import NIOConcurrencyHelpers
import NIOCore
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
    private let tls: TLSSettings
    private let cache = NIOLockedValueBox([BalancerKey: UpstreamBalancer]())

    public init(resolver: NodeResolver, tls: TLSSettings = TLSSettings()) {
        self.resolver = resolver
        self.tls = tls
    }

    /// Builds the table. Resolution may block on DNS: call it off the event loops.
    /// Returns the table plus one message per node that was left out.
    public func compile(_ resources: ProxyResources, version: Int) -> (RouteTable, [String]) {
        var problems: [String] = []
        var used: Set<BalancerKey> = []
        var compiled: [CompiledRoute] = []
        let certificates = CertificateTable(ssls: resources.ssls.values.map(\.value), settings: tls, problems: &problems)
        for stored in resources.streamRoutes.values {
            let route = stored.value
            guard let upstream = resources.upstream(for: route) else {
                problems.append("stream route \(route.id): upstream \(route.upstreamID ?? "?") not found")
                continue
            }
            if let sni = route.sni, !certificates.covers(sni) {
                problems.append("stream route \(route.id): no enabled ssl object has a certificate for sni \(sni); TLS clients cannot reach it yet")
            }
            var nodes: [BalancerNode] = []
            var names: [String] = []
            var failures: [String] = []
            for node in upstream.nodes {
                switch resolver.resolve(node.host) {
                case .address(let ip):
                    nodes.append(BalancerNode(host: ip, port: node.port, weight: node.weight, priority: node.priority))
                    names.append(node.host)
                case .failure(let reason):
                    failures.append(reason)
                }
            }
            problems.append(contentsOf: failures.map { "stream route \(route.id): \($0)" })
            let entry = CompiledRoute(route: route, upstream: upstream, balancer: nil, unavailableReason: nil,
                                      nodeAddresses: nodes.map(\.address))
            entry.nodeNames = names
            entry.nodeSocketAddresses = nodes.map { try? SocketAddress(ipAddress: $0.host, port: $0.port) }
            if upstream.scheme == "tls" {
                do {
                    entry.upstreamTLS = try UpstreamTLSContext.make(upstream: upstream, resources: resources, settings: tls)
                } catch {
                    problems.append("stream route \(route.id): TLS to the brokers cannot be set up: \(error)")
                    entry.unavailableReason = "TLS to the brokers cannot be set up: \(error)"
                    compiled.append(entry)
                    continue
                }
            }
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
        var table = RouteTable(version: version, routes: compiled)
        table.certificates = certificates
        return (table, problems)
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

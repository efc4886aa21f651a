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
    private let health: HealthMonitor?
    private let cache = NIOLockedValueBox([BalancerKey: UpstreamBalancer]())
    private let limits = RouteLimitsCache()

    public convenience init(resolver: NodeResolver, tls: TLSSettings = TLSSettings()) {
        self.init(resolver: resolver, tls: tls, health: nil)
    }

    /// With `health`, routes whose upstream has `checks` get health targets from it.
    init(resolver: NodeResolver, tls: TLSSettings, health: HealthMonitor?) {
        self.resolver = resolver
        self.tls = tls
        self.health = health
    }

    /// Builds the table. Resolution may block on DNS: call it off the event loops.
    /// Returns the table plus one message per node that was left out.
    public func compile(_ resources: ProxyResources, version: Int) -> (RouteTable, [String]) {
        var problems: [String] = []
        var used: Set<BalancerKey> = []
        let certificates = CertificateTable(ssls: resources.ssls.values.map(\.value), settings: tls, problems: &problems)
        var compiled: [CompiledRoute] = []
        for stored in resources.streamRoutes.values {
            let route = stored.value
            guard let upstream = resources.upstream(for: route) else {
                problems.append("stream route \(route.id): upstream \(route.upstreamID ?? "?") not found")
                continue
            }
            if let sni = route.sni, !certificates.covers(sni) {
                problems.append("stream route \(route.id): no enabled ssl object has a certificate for sni \(sni); TLS clients cannot reach it yet")
            }
            compiled.append(compileRoute(route, upstream: upstream, resources: resources, used: &used,
                                         problems: &problems))
        }
        cache.withLockedValue { c in c = c.filter { used.contains($0.key) } }
        limits.keep(only: Set(compiled.map(\.route.id)))
        var table = RouteTable(version: version, routes: compiled)
        table.certificates = certificates
        return (table, problems)
    }

    /// One route: its nodes resolved, TLS towards the brokers set up, and its balancer built (or reused).
    private func compileRoute(_ route: StreamRoute, upstream: Upstream, resources: ProxyResources,
                              used: inout Set<BalancerKey>, problems: inout [String]) -> CompiledRoute
    {
        var resolved: [BalancerNode] = []
        var nodes: [CompiledNode] = []
        var failures: [String] = []
        for node in upstream.nodes {
            switch resolver.resolve(node.host) {
            case .address(let ip):
                let balancerNode = BalancerNode(host: ip, port: node.port, weight: node.weight, priority: node.priority)
                resolved.append(balancerNode)
                nodes.append(CompiledNode(name: node.host, resolved: balancerNode))
            case .failure(let reason):
                failures.append(reason)
            }
        }
        problems.append(contentsOf: failures.map { "stream route \(route.id): \($0)" })
        let owner = route.upstreamID.map { "upstream \($0)" } ?? "route \(route.id)"
        let status = health?.status(for: upstream, nodes: resolved, owner: owner)
            ?? RouteNodeStatus(targets: resolved.map { _ in nil }, addresses: resolved.map(\.address),
                               weights: resolved.map(\.weight), owner: owner)
        var upstreamTLS: UpstreamTLSContext?
        if upstream.scheme == "tls" {
            do {
                upstreamTLS = try UpstreamTLSContext.make(upstream: upstream, resources: resources, settings: tls)
            } catch {
                problems.append("stream route \(route.id): TLS to the brokers cannot be set up: \(error)")
                return CompiledRoute(route: route, upstream: upstream, nodes: nodes, balancer: nil,
                                     unavailableReason: "TLS to the brokers cannot be set up: \(error)",
                                     upstreamTLS: nil, status: status, limits: limits.limits(for: route))
            }
        }
        guard resolved.contains(where: { $0.weight > 0 }) else {
            let reason = failures.first
                ?? (upstream.nodes.isEmpty ? "upstream has no nodes" : "every node has weight 0")
            return CompiledRoute(route: route, upstream: upstream, nodes: nodes, balancer: nil,
                                 unavailableReason: reason, upstreamTLS: upstreamTLS, status: status,
                                 limits: limits.limits(for: route))
        }
        let key = BalancerKey(kind: BalancerKind(upstream.type), nodes: resolved)
        used.insert(key)
        let balancer = cache.withLockedValue { c in
            if let hit = c[key] { return hit }
            let made = UpstreamBalancer(kind: key.kind, nodes: resolved)
            c[key] = made
            return made
        }
        return CompiledRoute(route: route, upstream: upstream, nodes: nodes, balancer: balancer,
                             unavailableReason: nil, upstreamTLS: upstreamTLS, status: status,
                             limits: limits.limits(for: route))
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

import NIOCore
import LoadBalancing
import ProxyModel

/// One node of a compiled route, in the balancer's order: its name as configured and where it resolved to.
public struct CompiledNode: Sendable, Hashable {
    /// The host as configured (a DNS name or an address): sent as SNI when the upstream speaks TLS.
    public let name: String
    /// The resolved `ip:port`, as operators and APISIX name the node.
    public let address: String
    /// The resolved socket address: connecting to it skips name lookup (a thread hop per connection).
    let socketAddress: SocketAddress?

    init(name: String, resolved: BalancerNode) {
        self.name = name
        self.address = resolved.address
        self.socketAddress = try? SocketAddress(ipAddress: resolved.host, port: resolved.port)
    }
}

/// A stream route ready for the hot path: matcher fields, plugin settings, its nodes and its upstream's balancer.
///
/// Built in one pass by `RouteCompiler` and never changed: a new route table holds new instances. A class, so
/// that each accepted connection holds one reference instead of copying every field.
public final class CompiledRoute: Sendable {
    public let route: StreamRoute
    public let upstream: Upstream
    /// The resolved nodes, in the order of `balancer.nodes`.
    public let nodes: [CompiledNode]
    /// The balancer over `nodes`; nil when no node is usable.
    public let balancer: UpstreamBalancer?
    /// Why `balancer` is nil, for the log.
    public let unavailableReason: String?
    /// Client-side TLS towards the brokers when the upstream's scheme is `tls`.
    let upstreamTLS: UpstreamTLSContext?
    /// Health and drains: the nodes new clients must not be sent to now, and where to report outcomes.
    let status: RouteNodeStatus
    /// `limit-conn` and `connect_rate`; nil when the route has neither.
    let limits: RouteLimits?
    /// The PROXY protocol header brokers get, if any: the upstream's `proxy_protocol`.
    var proxyProtocol: ProxyProtocolVersion? { upstream.proxyProtocol }

    init(route: StreamRoute, upstream: Upstream, nodes: [CompiledNode], balancer: UpstreamBalancer?,
         unavailableReason: String?, upstreamTLS: UpstreamTLSContext?, status: RouteNodeStatus,
         limits: RouteLimits? = nil)
    {
        self.status = status
        self.limits = limits
        self.route = route
        self.upstream = upstream
        self.nodes = nodes
        self.balancer = balancer
        self.unavailableReason = unavailableReason
        self.upstreamTLS = upstreamTLS
    }

    /// Whether a connection with these addresses is one this route takes.
    func matches(remote: IPAddressBytes?, local: IPAddressBytes?, localPort: Int, sni: String?) -> Bool {
        if let want = route.sni {
            guard let sni else { return false }
            if want.hasPrefix("*.") {
                guard sni.hasSuffix(want.dropFirst(1)), sni.count > want.count - 1 else { return false }
            } else if want != sni {
                return false
            }
        }
        if let cidr = route.remoteAddr {
            guard let remote, cidr.contains(remote) else { return false }
        }
        if let cidr = route.serverAddr {
            guard let local, cidr.contains(local) else { return false }
        }
        if let port = route.serverPort, port != localPort { return false }
        return true
    }
}

/// The routes in matching order, swapped as a whole whenever the store changes.
public struct RouteTable: Sendable {
    /// Store version this table was built from.
    public var version: Int
    public var routes: [CompiledRoute]
    /// Server certificates for TLS listeners, by SNI.
    var certificates = CertificateTable()

    public init(version: Int = 0, routes: [CompiledRoute] = []) {
        self.version = version
        self.routes = routes
    }

    /// Number of ssl objects TLS listeners can present.
    public var certificateCount: Int { certificates.certificates.count }

    /// The route for a connection: SNI routes first for TLS (exact names before wildcards), then the rest in
    /// store order; the first whose addresses and port all match wins.
    public func match(remote: IPAddressBytes?, local: IPAddressBytes?, localPort: Int, sni: String?) -> CompiledRoute? {
        if let sni = sni?.lowercased() {
            for r in routes where r.route.sni == sni {
                if r.matches(remote: remote, local: local, localPort: localPort, sni: sni) { return r }
            }
            for r in routes where r.route.sni?.hasPrefix("*.") == true {
                if r.matches(remote: remote, local: local, localPort: localPort, sni: sni) { return r }
            }
        }
        for r in routes where r.route.sni == nil {
            if r.matches(remote: remote, local: local, localPort: localPort, sni: sni) { return r }
        }
        return nil
    }
}

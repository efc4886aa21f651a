import NIOCore
import LoadBalancing
import ProxyModel

/// A stream route ready for the hot path: matcher fields, plugin settings, and its upstream's balancer.
///
/// A class, so that each accepted connection holds one reference instead of copying every field (a profile
/// of connection setup showed the copies). Set up by `RouteCompiler` before the table is published and never
/// changed afterwards.
public final class CompiledRoute: @unchecked Sendable {
    public var route: StreamRoute
    public var upstream: Upstream
    /// The balancer over the resolved nodes; nil when no node is usable.
    public var balancer: UpstreamBalancer?
    /// Why `balancer` is nil, for the log.
    public var unavailableReason: String?
    /// Resolved node address (`ip:port`) of each balancer node, same order.
    public var nodeAddresses: [String]
    /// The resolved socket address of each balancer node, same order: connecting to it skips name lookup.
    var nodeSocketAddresses: [SocketAddress?] = []
    /// The node names as configured (before DNS), same order as `nodeAddresses`.
    public var nodeNames: [String] = []
    /// Client-side TLS towards the brokers when the upstream's scheme is `tls`.
    var upstreamTLS: UpstreamTLSContext?

    init(route: StreamRoute, upstream: Upstream, balancer: UpstreamBalancer?, unavailableReason: String?,
         nodeAddresses: [String])
    {
        self.route = route
        self.upstream = upstream
        self.balancer = balancer
        self.unavailableReason = unavailableReason
        self.nodeAddresses = nodeAddresses
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

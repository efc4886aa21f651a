import ProxyModel

/// One balancing target as the proxy sees it after DNS resolution.
public struct BalancerNode: Hashable, Sendable {
    /// IP address or host name; an IPv6 address may be given with or without brackets.
    public var host: String { didSet { address = Self.format(host: host, port: port) } }
    /// TCP port of the broker.
    public var port: Int { didSet { address = Self.format(host: host, port: port) } }
    /// Relative share of traffic; 0 means "takes no traffic" (see ``UpstreamBalancer`` for the one exception).
    public var weight: Int
    /// Priority group; higher groups are tried first, lower ones only once every node above has been tried.
    public var priority: Int

    /// Creates a node; weight and priority default to APISIX's defaults (1 and 0).
    public init(host: String, port: Int, weight: Int = 1, priority: Int = 0) {
        self.host = host
        self.port = port
        self.weight = weight
        self.priority = priority
        self.address = Self.format(host: host, port: port)
    }

    /// Parses an APISIX node-map key such as `10.0.0.1:1883`, `broker:1883` or `[::1]:1883` (see `HostPort`).
    public init?(address: String, weight: Int = 1, priority: Int = 0) {
        guard let endpoint = HostPort(address) else { return nil }
        self.init(host: endpoint.host, port: endpoint.port, weight: weight, priority: priority)
    }

    /// The server string APISIX keys its node tables with: `host:port`, IPv6 hosts written `[addr]:port`.
    /// Kept with the node (the proxy reads it per connection), updated when `host` or `port` change.
    public private(set) var address: String

    private static func format(host: String, port: Int) -> String { HostPort.format(host: host, port: port) }
}

/// The balancing algorithms of an APISIX upstream (`type`).
public enum BalancerKind: String, Sendable, CaseIterable {
    /// nginx's smooth weighted round robin.
    case roundrobin
    /// APISIX-compatible consistent hashing (lua-resty-balancer's `resty.chash`).
    case chash
    /// Fewest active connections relative to weight.
    case leastConn = "least_conn"
}

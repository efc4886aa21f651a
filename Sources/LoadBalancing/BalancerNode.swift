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

    /// Parses an APISIX node-map key such as `10.0.0.1:1883`, `broker:1883` or `[::1]:1883`.
    ///
    /// Returns nil when the port is missing or not a number in 0...65535.
    public init?(address: String, weight: Int = 1, priority: Int = 0) {
        let host: Substring
        let portText: Substring
        if address.hasPrefix("[") {
            guard let close = address.firstIndex(of: "]") else { return nil }
            host = address[address.index(after: address.startIndex)..<close]
            let rest = address[address.index(after: close)...]
            guard rest.hasPrefix(":") else { return nil }
            portText = rest.dropFirst()
        } else {
            guard let colon = address.lastIndex(of: ":") else { return nil }
            host = address[..<colon]
            portText = address[address.index(after: colon)...]
        }
        guard !host.isEmpty, let port = Int(portText), (0...65_535).contains(port) else { return nil }
        self.init(host: String(host), port: port, weight: weight, priority: priority)
    }

    /// The server string APISIX keys its node tables with: `host:port`, IPv6 hosts written `[addr]:port`.
    /// Kept with the node (the proxy reads it per connection), updated when `host` or `port` change.
    public private(set) var address: String

    private static func format(host: String, port: Int) -> String {
        if host.contains(":") && !host.hasPrefix("[") {
            return "[\(host)]:\(port)"
        }
        return "\(host):\(port)"
    }
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

/// How an upstream spreads connections over its nodes.
public enum UpstreamType: String, Sendable, CaseIterable {
    case roundrobin
    case chash
    case leastConn = "least_conn"
}

/// Where the chash key comes from (APISIX `hash_on`); stream connections only have variables.
public enum HashOn: String, Sendable, CaseIterable {
    case vars
    case header
    case cookie
    case consumer
    case varsCombinations = "vars_combinations"
}

/// One broker an upstream may send a connection to.
public struct UpstreamNode: Sendable, Hashable {
    /// An IP address or a DNS name.
    public var host: String
    public var port: Int
    public var weight: Int
    public var priority: Int

    public init(host: String, port: Int, weight: Int = 1, priority: Int = 0) {
        self.host = host
        self.port = port
        self.weight = weight
        self.priority = priority
    }

    /// `host:port`, with IPv6 hosts in brackets.
    public var address: String { HostPort.format(host: host, port: port) }
}

/// Timeouts of a proxied connection, in seconds.
public struct UpstreamTimeout: Sendable, Hashable {
    public var connect: Double
    public var send: Double
    public var read: Double
    public init(connect: Double, send: Double, read: Double) {
        self.connect = connect
        self.send = send
        self.read = read
    }
    /// A proxied connection with no traffic for this long is closed: the larger of send and read.
    public var idle: Double { max(send, read) }
}

/// Client-side TLS towards the brokers (`scheme: tls`).
public struct UpstreamTLS: Sendable, Hashable {
    public var clientCert: String?
    public var clientKey: String?
    public var clientCertID: String?
    public var verify: Bool
}

/// An upstream: nodes plus the way to balance, retry and time out over them.
public struct Upstream: Sendable, Hashable {
    public var id: String?
    public var name: String?
    public var desc: String?
    public var labels: [String: String] = [:]
    public var type: UpstreamType = .roundrobin
    public var nodes: [UpstreamNode] = []
    public var key: String?
    public var hashOn: HashOn = .vars
    /// Explicit retry count; nil means "number of nodes − 1" (APISIX's default).
    public var retries: Int?
    /// Overall time budget for retries in seconds; nil or 0 means no limit.
    public var retryTimeout: Double?
    public var timeout: UpstreamTimeout?
    /// `tcp` (default) or `tls`.
    public var scheme: String = "tcp"
    public var tls: UpstreamTLS?
    /// Health checks (`checks.active`, `checks.passive`); nil: every node is used whatever its health.
    public var checks: HealthChecks?
    /// Send a PROXY protocol header with the client's address to the broker before its bytes (ours; mosquitto 2.1,
    /// VerneMQ, HiveMQ and EMQX read it).
    public var proxyProtocol: ProxyProtocolVersion?
    public var createTime: Int?
    public var updateTime: Int?

    public init(type: UpstreamType = .roundrobin, nodes: [UpstreamNode], key: String? = nil) {
        self.type = type
        self.nodes = nodes
        self.key = key
    }

    /// Retries allowed after the first attempt.
    public var effectiveRetries: Int { retries ?? max(0, nodes.count - 1) }
}

/// Connection variables a stream chash `key` may name.
public let streamHashVariables: Set<String> = [
    "mqtt_client_id", "mqtt_username", "remote_addr", "remote_port", "server_addr", "server_port", "tls_client_cn", "sni",
]

/// Which PROXY protocol header a connection to a broker starts with.
public enum ProxyProtocolVersion: String, Sendable, Hashable {
    /// The text line (`PROXY TCP4 …`), what nginx and so APISIX send.
    case v1
    /// The binary header with TLVs: the SNI and, on TLS listeners, the TLS version and client certificate CN.
    case v2
}

import Foundation

/// Which proxy planes are on (`apisix.proxy_mode`).
public enum ProxyMode: String, Sendable {
    case http
    case stream
    case httpAndStream = "http&stream"

    /// Whether stream routes may be added and stream listeners started.
    public var streamEnabled: Bool { self != .http }
}

/// One `apisix.stream_proxy.tcp` entry: where to listen, whether to terminate TLS, whether connections start with a
/// PROXY protocol header, whether brokers get one, and how many connections it takes.
public struct StreamListener: Sendable, Hashable, CustomStringConvertible {
    /// Address to bind; `0.0.0.0` for a bare port, as APISIX does.
    public var host: String
    public var port: Int
    public var tls: Bool
    /// Connections start with a PROXY v1 or v2 header (`proxy_protocol`, or `apisix.proxy_protocol.enable_tcp_pp`).
    public var proxyProtocol: Bool
    /// Brokers get a PROXY v1 header (`proxy_protocol_to_upstream`, or `enable_tcp_pp_to_upstream`), unless the
    /// upstream names its own version.
    public var proxyProtocolToUpstream: Bool
    /// At most this many client connections open on this listener (ours); nil: only the global limit.
    public var maxConnections: Int?
    /// One listening socket per event loop (`SO_REUSEPORT`), each keeping the connections it accepts on its own
    /// loop, as nginx's `reuseport` does: no hand-off between threads per connection, but the kernel spreads
    /// connections by a hash of their addresses, not by how busy each loop is.
    public var reusePort: Bool

    public init(host: String = "0.0.0.0", port: Int, tls: Bool = false, proxyProtocol: Bool = false,
                proxyProtocolToUpstream: Bool = false, maxConnections: Int? = nil, reusePort: Bool = false)
    {
        self.reusePort = reusePort
        self.host = host
        self.port = port
        self.tls = tls
        self.proxyProtocol = proxyProtocol
        self.proxyProtocolToUpstream = proxyProtocolToUpstream
        self.maxConnections = maxConnections
    }

    public var description: String {
        var flags: [String] = []
        if tls { flags.append("tls") }
        if proxyProtocol { flags.append("proxy_protocol") }
        if proxyProtocolToUpstream { flags.append("proxy_protocol_to_upstream") }
        if let maxConnections { flags.append("max \(maxConnections)") }
        if reusePort { flags.append("reuseport") }
        return HostPort.format(host: host, port: port) + (flags.isEmpty ? "" : " (\(flags.joined(separator: ", ")))")
    }
}

/// An admin API key and what it may do.
public struct AdminKey: Sendable, Hashable {
    public enum Role: String, Sendable { case admin, viewer }
    public var name: String
    public var key: String
    public var role: Role

    public init(name: String, key: String, role: Role) {
        self.name = name
        self.key = key
        self.role = role
    }
}

/// `deployment.admin`: the admin API's listener, keys and client allow-list.
public struct AdminConfig: Sendable, Hashable {
    public var listenHost = "127.0.0.1"
    public var listenPort = 9180
    public var keys: [AdminKey] = []
    public var keyRequired = true
    public var allowAdmin: [CIDR] = []
    /// Largest admin request body accepted, in bytes (`mqtt_proxy.admin_body_limit`); larger is a 413.
    public var bodyLimit = 1024 * 1024
    public init() {}
}

/// Where stream routes, upstreams and ssl objects live.
public enum ConfigProvider: String, Sendable, Hashable {
    /// The APISIX standalone file (`mqtt_proxy.store`, default `conf/apisix.yaml`): the embedded default.
    case file
    /// etcd, in APISIX's key layout (`deployment.role_traditional.config_provider: etcd`).
    case etcd
}

/// `deployment.etcd`, as APISIX reads it, plus where the last good content is cached.
public struct EtcdConfig: Sendable, Hashable {
    /// `http://` or `https://` endpoints, tried in turn.
    public var hosts: [String] = []
    public var prefix = "/apisix"
    /// Seconds for each request (connect, read, write).
    public var timeout: Double = 30
    /// Seconds a watch request stays open before it is made again (from the last revision seen).
    public var watchTimeout: Double = 50
    /// Seconds between reconnects of a broken watch (grows with each failure, with jitter).
    public var resyncDelay: Double = 5
    public var user: String?
    public var password: String?
    /// TLS to etcd: a client certificate (`cert`/`key` files), whether to verify etcd's, and the SNI to send.
    public var tlsCert: String?
    public var tlsKey: String?
    public var tlsVerify = true
    public var tlsSNI: String?
    /// The last good content, written after every change and read when etcd cannot be reached at start
    /// (`mqtt_proxy.etcd_cache`, relative to the config's folder).
    public var cachePath = "etcd-cache.json"
    public init() {}

    /// The prefix without a trailing slash (`/apisix`).
    public var normalizedPrefix: String { prefix.hasSuffix("/") && prefix.count > 1 ? String(prefix.dropLast()) : prefix }
}

/// Our own settings (`mqtt_proxy:` section), beyond what APISIX's layout has.
public struct EngineSettings: Sendable, Hashable {
    /// Largest CONNECT the preread waits for, in bytes (APISIX: 16 KiB).
    public var prereadMaxBytes = 16 * 1024
    /// How long the preread waits for a whole CONNECT, in seconds (APISIX: 30 s).
    public var prereadTimeout: Double = 30
    /// Default upstream connect timeout when an upstream sets none, in seconds.
    public var connectTimeout: Double = 6
    /// Default idle limit of a proxied connection when its upstream sets no timeout, in seconds.
    public var idleTimeout: Double = 600
    /// On shutdown, how long relays may take to end before they are cut, in seconds.
    public var drainTimeout: Double = 10
    /// How long a relay may stay half-closed (one side sent FIN, the other did not answer), in seconds.
    public var halfCloseTimeout: Double = 5
    /// On shutdown, relays ended per second (nil: all at once).
    public var shutdownEvictPerSecond: Double?
    /// On shutdown, the Server Reference sent to MQTT 5 clients with DISCONNECT 0x8B.
    public var shutdownServerReference: String?
    /// Client connections open at once, over all listeners (`mqtt_proxy.max_connections`); nil: what the
    /// descriptor limit allows (two per relay, less a reserve).
    public var maxConnections: Int?
    /// Peers whose PROXY protocol headers are believed (`mqtt_proxy.proxy_protocol_trusted`); connections from
    /// anyone else to a `proxy_protocol` listener are closed.
    public var proxyProtocolTrusted: [CIDR] = [CIDR("127.0.0.0/8")!, CIDR("::1/128")!]
    /// This instance's name (health probes' client ids, fleet registration); nil: host name and process id.
    public var instanceID: String?
    /// How often DNS names of nodes are resolved again, in seconds.
    public var dnsRefresh: Double = 30
    /// How often the store file is checked for changes, in seconds.
    public var storeWatchInterval: Double = 1
    /// Recent events kept for the console and `/v1/events`.
    public var eventBufferSize = 1000
    /// Log level (`trace` … `critical`).
    public var logLevel = "info"
    /// Log file; nil logs to standard error.
    public var logFile: String?
    /// TLS listener settings (`apisix.ssl`).
    public var tls = TLSSettings()
    public init() {}

    /// `instanceID`, or the host name and process id.
    public var resolvedInstanceID: String {
        instanceID ?? "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)"
    }
}

/// `apisix.ssl`: defaults for TLS listeners and for TLS towards brokers.
public struct TLSSettings: Sendable, Hashable {
    /// Certificate name used when a client sends no SNI (`fallback_sni`); nil refuses such handshakes.
    public var fallbackSNI: String?
    /// Protocol versions TLS listeners allow unless an ssl object narrows them (`ssl_protocols`).
    public var protocols: [TLSProtocolVersion] = [.tls12, .tls13]
    /// PEM file of CAs that broker certificates are verified against when an upstream sets `tls.verify`
    /// (`ssl_trusted_certificate`); nil uses the system's trust store.
    public var trustedCertificateFile: String?
    public init() {}
}

/// The whole `config.yaml`.
public struct ProxyConfig: Sendable, Hashable {
    public var proxyMode: ProxyMode = .httpAndStream
    public var listeners: [StreamListener] = []
    public var admin = AdminConfig()
    public var etcd: EtcdConfig?
    /// The store: the file (default) or etcd.
    public var configProvider = ConfigProvider.file
    /// The store file (APISIX standalone format); relative paths are resolved against the config's folder.
    public var storePath = "apisix.yaml"
    public var engine = EngineSettings()
    public init() {}
}

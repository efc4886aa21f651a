import Logging
import NIOCore
import ProxyControl
import ProxyModel
import ProxyProtocol

/// What every accepted connection needs from the engine.
struct ConnectionEnvironment: Sendable {
    let registry: ConnectionRegistry
    let settings: EngineSettings
    let logger: Logger
    /// One idle timer per event loop for all its relays.
    let idleWatches: IdleWatches
    /// The current route table (read once per accepted connection).
    let table: @Sendable () -> RouteTable
    /// Opens connections to brokers.
    let connector: any UpstreamConnecting
    /// Where passive health outcomes go; nil in tests that drive a handler alone.
    let health: HealthMonitor?
    /// How relays end on shutdown, and whether it is happening.
    let shutdown: ShutdownState
    /// The listener the connection came in on.
    let listener: ListenerPolicy
}

/// What a listener asks of its connections beyond the routes: PROXY protocol in and out, its connection count.
struct ListenerPolicy: Sendable {
    /// Connections start with a PROXY protocol header.
    let acceptsProxyHeader: Bool
    /// Brokers get a PROXY v1 header unless the upstream names a version.
    let sendsProxyHeader: Bool
    let admission: ListenerAdmission

    init(acceptsProxyHeader: Bool = false, sendsProxyHeader: Bool = false,
         admission: ListenerAdmission = ListenerAdmission(name: "listener", limit: nil))
    {
        self.acceptsProxyHeader = acceptsProxyHeader
        self.sendsProxyHeader = sendsProxyHeader
        self.admission = admission
    }
}

/// The addresses of an accepted connection, in the forms matching and hashing need. After a PROXY protocol header,
/// `remote` and `local` are the header's (the client's and the one it connected to) and `via` the socket's peer.
struct ConnectionAddresses: Sendable {
    var remoteIP: String
    var remotePort: Int
    var localIP: String
    var localPort: Int
    var remoteBytes: IPAddressBytes?
    var localBytes: IPAddressBytes?
    var remote: SocketAddress?
    var local: SocketAddress?
    /// The socket's peer when a PROXY header named another client (the load balancer in front).
    var via: SocketAddress?

    init(channel: Channel) {
        self.init(remote: channel.remoteAddress, local: channel.localAddress)
    }

    init(remote: SocketAddress?, local: SocketAddress?) {
        self.remote = remote
        self.local = local
        remoteIP = remote?.ipAddress ?? "?"
        remotePort = remote?.port ?? 0
        localIP = local?.ipAddress ?? "?"
        localPort = local?.port ?? 0
        remoteBytes = remote?.packedBytes.map(IPAddressBytes.init(bytes:))
        localBytes = local?.packedBytes.map(IPAddressBytes.init(bytes:))
    }

    /// The addresses a PROXY header tells; LOCAL and UNKNOWN headers leave the socket's own.
    func adopting(_ header: ProxyHeader) -> ConnectionAddresses {
        guard header.command == .proxy, let source = header.source, let destination = header.destination else {
            return self
        }
        var adopted = ConnectionAddresses(remote: source, local: destination)
        adopted.via = remote
        return adopted
    }

    /// `ip:port` of the load balancer that sent a PROXY header; nil without one.
    var viaText: String? {
        via.map { HostPort.format(host: $0.ipAddress ?? "?", port: $0.port ?? 0) }
    }
}

/// What stream variables (chash keys, `limit-conn` keys) can name about one connection.
struct ConnectionVariables {
    let addresses: ConnectionAddresses
    let clientID: String?
    let username: String?
    let tls: TLSDetails?

    /// The value of a stream variable; nil when the connection has none.
    func value(_ name: String) -> String? {
        switch name {
        case "mqtt_client_id": return clientID
        // Ours: the CONNECT's user name; without one, the client id (and then, like any empty key, the address).
        case "mqtt_username": return username.flatMap { $0.isEmpty ? nil : $0 } ?? clientID
        case "remote_addr", "binary_remote_addr": return addresses.remoteIP
        case "remote_port": return String(addresses.remotePort)
        case "server_addr": return addresses.localIP
        case "server_port": return String(addresses.localPort)
        case "tls_client_cn": return tls?.clientCN
        case "sni", "ssl_server_name": return tls?.sni
        case "realip_remote_addr": return addresses.via?.ipAddress ?? addresses.remoteIP
        case "proxy_protocol_addr": return addresses.via == nil ? nil : addresses.remoteIP
        default: return nil
        }
    }

    /// The chash key of a connection, falling back to the client address like APISIX when it is empty.
    func hashKey(for upstream: Upstream) -> (key: String, fellBack: Bool) {
        var found: String?
        if let key = upstream.key {
            switch upstream.hashOn {
            case .vars:
                found = value(key)
            case .varsCombinations:
                found = VariableTemplate(key).expand(value).text
            case .header, .cookie, .consumer:
                found = nil
            }
        }
        if let found, !found.isEmpty { return (found, false) }
        return (addresses.remoteIP, true)
    }

    /// The `limit-conn` key: nil when no variable resolves (APISIX then counts by the client address).
    func limitKey(_ limiter: ConnectionLimiter) -> String {
        if let template = limiter.template {
            let (text, resolved) = template.expand(value)
            return resolved == 0 ? addresses.remoteIP : text
        }
        return value(limiter.config.key) ?? addresses.remoteIP
    }
}

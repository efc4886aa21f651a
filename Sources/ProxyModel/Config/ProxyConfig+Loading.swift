/// The result of reading a config file: the config, plus warnings about keys that were ignored.
public struct LoadedConfig: Sendable {
    public var config: ProxyConfig
    public var warnings: [SourceError]

    public init(config: ProxyConfig, warnings: [SourceError]) {
        self.config = config
        self.warnings = warnings
    }
}

extension ProxyConfig {
    /// Top-level and `apisix.` keys from APISIX's layout that do not apply here: ignored with a warning.
    static let ignoredSections: Set<String> = ["nginx_config", "plugins", "stream_plugins", "plugin_attr",
                                               "discovery", "graphql", "wasm", "xrpc", "ext-plugin"]

    /// Parses `config.yaml`; a problem stops with the file, line and reason.
    public static func load(text: String, file: String) throws(SourceError) -> LoadedConfig {
        let doc = try YAMLDocument(text: text, file: file)
        var warnings: [SourceError] = []
        var config = ProxyConfig()
        func fail(_ path: String, _ message: String) -> SourceError {
            SourceError(file: file, position: doc.position(of: path), message: message)
        }
        func warn(_ path: String, _ message: String) {
            warnings.append(SourceError(file: file, position: doc.position(of: path), message: message))
        }
        guard case .object(let top) = doc.root else {
            if doc.root == .null { return LoadedConfig(config: config, warnings: warnings) }
            throw fail("", "expected a mapping at the top of the file")
        }
        for (key, value) in top {
            switch key {
            case "apisix": try loadApisix(value, into: &config, fail: fail, warn: warn)
            case "deployment": try loadDeployment(value, into: &config, fail: fail, warn: warn)
            case "mqtt_proxy": try loadEngine(value, into: &config, fail: fail, warn: warn)
            default:
                warn(key, ignoredSections.contains(key) ? "\(key) does not apply to mqtt-proxy; ignored"
                                                         : "unknown key \(key); ignored")
            }
        }
        try checkProvider(config, fail: fail)
        return LoadedConfig(config: config, warnings: warnings)
    }

    static func object(_ value: JSONValue, _ path: String, _ fail: (String, String) -> SourceError)
        throws(SourceError) -> [(String, JSONValue)]
    {
        guard case .object(let dict) = value else { throw fail(path, "\(path) must be a mapping") }
        return dict.map { ($0.key, $0.value) }
    }

    private static func loadApisix(_ value: JSONValue, into config: inout ProxyConfig,
                                   fail: (String, String) -> SourceError, warn: (String, String) -> Void)
        throws(SourceError)
    {
        var explicit: [ListenerFlags] = []
        var tcpPP = false
        var tcpPPToUpstream = false
        for (key, v) in try object(value, "apisix", fail) {
            let path = "apisix.\(key)"
            switch key {
            case "proxy_protocol":
                for (k, flag) in try object(v, path, fail) {
                    let p = "\(path).\(k)"
                    switch k {
                    case "enable_tcp_pp", "enable_tcp_pp_to_upstream":
                        guard case .bool(let b) = flag else { throw fail(p, "\(k) must be true or false") }
                        if k == "enable_tcp_pp" { tcpPP = b } else { tcpPPToUpstream = b }
                    case "listen_http_port", "listen_https_port":
                        warn(p, "apisix.proxy_protocol.\(k) is for HTTP listeners; ignored")
                    default:
                        throw fail(p, "unknown key apisix.proxy_protocol.\(k) (expected enable_tcp_pp, enable_tcp_pp_to_upstream)")
                    }
                }
            case "proxy_mode":
                guard let s = v.stringValue, let mode = ProxyMode(rawValue: s) else {
                    throw fail(path, "invalid proxy_mode: expected http, stream or http&stream")
                }
                config.proxyMode = mode
            case "stream_proxy":
                explicit = try loadStreamProxy(v, into: &config, fail: fail, warn: warn)
            case "ssl":
                try loadSSL(v, into: &config.engine.tls, fail: fail, warn: warn)
            case "enable_admin":
                if v == .bool(false) { warn(path, "enable_admin: false is not supported; the admin API stays on") }
            default:
                warn(path, "apisix.\(key) does not apply to mqtt-proxy; ignored")
            }
        }
        // Listeners that say nothing take the global switches (as APISIX's ops.lua does).
        for (i, flags) in explicit.enumerated() where i < config.listeners.count {
            config.listeners[i].proxyProtocol = flags.proxyProtocol ?? tcpPP
            config.listeners[i].proxyProtocolToUpstream = flags.toUpstream ?? tcpPPToUpstream
        }
    }

    /// A listener's own PROXY protocol switches; nil where it inherits the global ones.
    struct ListenerFlags {
        var proxyProtocol: Bool?
        var toUpstream: Bool?
    }

    private static func loadStreamProxy(_ value: JSONValue, into config: inout ProxyConfig,
                                        fail: (String, String) -> SourceError, warn: (String, String) -> Void)
        throws(SourceError) -> [ListenerFlags]
    {
        var flags: [ListenerFlags] = []
        for (key, v) in try object(value, "apisix.stream_proxy", fail) {
            let path = "apisix.stream_proxy.\(key)"
            switch key {
            case "tcp":
                guard case .array(let entries) = v else { throw fail(path, "stream_proxy.tcp must be a list") }
                for (i, entry) in entries.enumerated() {
                    let (listener, explicit) = try listener(entry, path: "\(path)[\(i)]", fail: fail)
                    config.listeners.append(listener)
                    flags.append(explicit)
                }
            case "only":
                if v == .bool(true) { config.proxyMode = .stream }
            case "udp":
                warn(path, "UDP stream proxying is not supported; stream_proxy.udp ignored")
            default:
                warn(path, "stream_proxy.\(key) does not apply to mqtt-proxy; ignored")
            }
        }
        let seen = Set(config.listeners.map { "\($0.host)|\($0.port)" })
        if seen.count != config.listeners.count {
            throw fail("apisix.stream_proxy.tcp", "the same address is listed twice")
        }
        return flags
    }

    private static func loadSSL(_ value: JSONValue, into tls: inout TLSSettings,
                                fail: (String, String) -> SourceError, warn: (String, String) -> Void)
        throws(SourceError)
    {
        for (key, v) in try object(value, "apisix.ssl", fail) {
            let path = "apisix.ssl.\(key)"
            switch key {
            case "fallback_sni":
                guard let s = v.stringValue, StreamRoute.isValidSNI(s), !s.hasPrefix("*.") else {
                    throw fail(path, "fallback_sni must be a host name")
                }
                tls.fallbackSNI = s.lowercased()
            case "ssl_protocols":
                guard let s = v.stringValue else { throw fail(path, "ssl_protocols must be a string such as \"TLSv1.2 TLSv1.3\"") }
                var list: [TLSProtocolVersion] = []
                for word in s.split(separator: " ") {
                    guard let version = TLSProtocolVersion(rawValue: String(word)) else {
                        throw fail(path, "ssl_protocols: \(word) is not supported (TLSv1.2 and TLSv1.3 are)")
                    }
                    list.append(version)
                }
                guard !list.isEmpty else { throw fail(path, "ssl_protocols is empty") }
                tls.protocols = Array(Set(list)).sorted()
            case "ssl_trusted_certificate":
                guard let s = v.stringValue, !s.isEmpty else {
                    throw fail(path, "ssl_trusted_certificate must be the path of a PEM file")
                }
                tls.trustedCertificateFile = s
            case "enable", "listen", "ssl_ciphers", "ssl_session_tickets", "ssl_trusted_combined_path", "key_encrypt_salt":
                warn(path, "apisix.ssl.\(key) does not apply to mqtt-proxy stream listeners; ignored")
            default:
                warn(path, "unknown key apisix.ssl.\(key); ignored")
            }
        }
    }

    private static func listener(_ entry: JSONValue, path: String, fail: (String, String) -> SourceError)
        throws(SourceError) -> (StreamListener, ListenerFlags)
    {
        switch entry {
        case .int, .string:
            return (try address(entry, path: path, fail: fail), ListenerFlags())
        case .object(let dict):
            var listener: StreamListener?
            var tls = false
            var flags = ListenerFlags()
            var limit: Int?
            var reusePort = false
            for (key, v) in dict {
                let p = "\(path).\(key)"
                switch key {
                case "addr": listener = try address(v, path: p, fail: fail)
                case "tls", "proxy_protocol", "proxy_protocol_to_upstream", "reuseport":
                    guard case .bool(let b) = v else { throw fail(p, "\(key) must be true or false") }
                    switch key {
                    case "tls": tls = b
                    case "proxy_protocol": flags.proxyProtocol = b
                    case "reuseport": reusePort = b
                    default: flags.toUpstream = b
                    }
                case "max_connections":
                    guard let n = v.intValue, n >= 1 else { throw fail(p, "max_connections must be an integer ≥ 1") }
                    limit = n
                default:
                    throw fail(p, "unknown listener key \(key) (expected addr, tls, proxy_protocol, "
                               + "proxy_protocol_to_upstream, max_connections, reuseport)")
                }
            }
            guard var result = listener else { throw fail(path, "listener entry needs addr") }
            result.tls = tls
            result.maxConnections = limit
            result.reusePort = reusePort
            return (result, flags)
        default:
            throw fail(path, "a listener is a port, an \"ip:port\" string or {addr, tls, proxy_protocol, …}")
        }
    }

    private static func address(_ value: JSONValue, path: String, fail: (String, String) -> SourceError)
        throws(SourceError) -> StreamListener
    {
        // Port 0 binds any free port; the one bound is logged ("ready: stream listeners …").
        if let port = value.intValue {
            guard (0...65535).contains(port) else { throw fail(path, "port \(port) is out of range 0…65535") }
            return StreamListener(port: port)
        }
        guard let s = value.stringValue else { throw fail(path, "expected a port or \"ip:port\"") }
        if let port = Int(s), (0...65535).contains(port) { return StreamListener(port: port) }
        guard let endpoint = HostPort(s, allowingAnyPort: true), IPAddressBytes(endpoint.host) != nil else {
            throw fail(path, "invalid listen address \(s) (expected \"ip:port\")")
        }
        return StreamListener(host: endpoint.host, port: endpoint.port)
    }
}

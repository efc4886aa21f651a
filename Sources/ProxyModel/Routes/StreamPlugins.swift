import OrderedCollections

/// Settings of the `mqtt-proxy` plugin on a stream route.
public struct MQTTProxyPluginConfig: Sendable, Hashable {
    /// Protocol name the CONNECT must carry (`MQTT`, or `MQIsdp` for 3.1).
    public var protocolName: String
    /// Protocol level the CONNECT must carry (3, 4 or 5).
    public var protocolLevel: Int
    /// Legacy (APISIX 2.x) per-plugin upstream `{host|ip, port}`, used when the route has no upstream.
    public var legacyUpstream: UpstreamNode?
    /// Ours: a reconnect-storm guard, CONNECTs admitted per second on this route.
    public var connectRate: ConnectRate?

    public init(protocolName: String = "MQTT", protocolLevel: Int, legacyUpstream: UpstreamNode? = nil,
                connectRate: ConnectRate? = nil)
    {
        self.protocolName = protocolName
        self.protocolLevel = protocolLevel
        self.legacyUpstream = legacyUpstream
        self.connectRate = connectRate
    }
}

/// `mqtt-proxy.connect_rate`: a token bucket of `burst` CONNECTs refilled at `rate` per second; a CONNECT that
/// finds it empty is refused with "connection rate exceeded".
public struct ConnectRate: Sendable, Hashable {
    public var rate: Double
    public var burst: Int

    public init(rate: Double, burst: Int) {
        self.rate = rate
        self.burst = burst
    }
}

/// APISIX's stream `limit-conn` plugin: at most `conn` concurrent connections per key, `burst` more admitted after
/// a delay, the rest refused.
public struct LimitConnConfig: Sendable, Hashable {
    public enum KeyType: String, Sendable, Hashable {
        /// `key` names one variable.
        case variable = "var"
        /// `key` is a template of `$variables`.
        case combination = "var_combination"
    }

    public var conn: Int
    public var burst: Int
    /// Seconds an excess connection waits for each multiple of `conn` it is over.
    public var defaultConnDelay: Double
    /// Accepted for APISIX compatibility; in the stream subsystem it changes nothing (no latency is measured).
    public var onlyUseDefaultDelay: Bool
    public var key: String
    public var keyType: KeyType

    public init(conn: Int, burst: Int, defaultConnDelay: Double, onlyUseDefaultDelay: Bool = false,
                key: String = "remote_addr", keyType: KeyType = .variable)
    {
        self.conn = conn
        self.burst = burst
        self.defaultConnDelay = defaultConnDelay
        self.onlyUseDefaultDelay = onlyUseDefaultDelay
        self.key = key
        self.keyType = keyType
    }

    /// The delay of the connection that makes the count `n` (APISIX: `default_conn_delay × ⌊(n−1)/conn⌋` above
    /// `conn`), or nil when `n` is over `conn + burst` and the connection is refused.
    public func delay(count n: Int) -> Double? {
        guard n <= conn + burst else { return nil }
        guard n > conn else { return 0 }
        return defaultConnDelay * Double((n - 1) / conn)
    }
}

/// Names of the stream plugins this proxy knows.
public let knownStreamPlugins: Set<String> = ["mqtt-proxy", "limit-conn"]

/// Connection variables a `limit-conn` key may name, beyond the chash ones: nginx's names for the socket peer and
/// the PROXY header's address.
public let limitConnVariables: Set<String> = streamHashVariables.union([
    "binary_remote_addr", "realip_remote_addr", "proxy_protocol_addr", "ssl_server_name",
])

extension StreamRoute {
    static func decodePlugins(_ value: JSONValue) throws(ValidationError)
        -> (MQTTProxyPluginConfig?, LimitConnConfig?)
    {
        guard case .object(let dict) = value else {
            throw ValidationError(field: "plugins", "invalid plugins: expected an object, got \(value.typeName)")
        }
        var mqtt: MQTTProxyPluginConfig?
        var limit: LimitConnConfig?
        for (name, conf) in dict {
            switch name {
            case "mqtt-proxy": mqtt = try decodeMQTTProxy(conf)
            case "limit-conn": limit = try decodeLimitConn(conf)
            default: throw ValidationError(field: "plugins.\(name)", "unknown plugin [\(name)]")
            }
        }
        return (mqtt, limit)
    }

    private static func pluginError(_ plugin: String, _ key: String, _ message: String) -> ValidationError {
        let prefix = "plugins.\(plugin)"
        return ValidationError(field: key.isEmpty ? prefix : "\(prefix).\(key)",
                               "failed to check the configuration of plugin \(plugin): \(message)")
    }

    /// Whether a plugin object is switched off by `_meta.disable`.
    private static func disabled(_ dict: OrderedDictionary<String, JSONValue>) -> Bool {
        if case .object(let meta)? = dict["_meta"], meta["disable"] == .bool(true) { return true }
        return false
    }

    static func decodeMQTTProxy(_ value: JSONValue) throws(ValidationError) -> MQTTProxyPluginConfig {
        func fail(_ message: String, _ key: String = "") -> ValidationError { pluginError("mqtt-proxy", key, message) }
        guard case .object(let dict) = value else { throw fail("expected an object, got \(value.typeName)") }
        var name = "MQTT"
        var level: Int?
        var legacy: UpstreamNode?
        var rate: ConnectRate?
        for (key, v) in dict {
            switch key {
            case "protocol_name":
                guard case .string(let s) = v, !s.isEmpty else {
                    throw fail("property \"protocol_name\" must be a non-empty string", key)
                }
                name = s
            case "protocol_level":
                guard let l = v.intValue else { throw fail("property \"protocol_level\" must be an integer", key) }
                guard (0...255).contains(l) else { throw fail("property \"protocol_level\" must be 0…255", key) }
                level = l
            case "upstream":
                guard case .object(let up) = v, let port = up["port"]?.intValue, (1...65535).contains(port),
                      let host = (up["host"] ?? up["ip"])?.stringValue
                else { throw fail("property \"upstream\" needs host (or ip) and port", key) }
                legacy = UpstreamNode(host: host, port: port)
            case "connect_rate":
                rate = try decodeConnectRate(v)
            case "_meta", "disable":
                continue
            default:
                throw fail("additional properties forbidden, found \(key)", key)
            }
        }
        guard let level else { throw fail("property \"protocol_level\" is required", "protocol_level") }
        return MQTTProxyPluginConfig(protocolName: name, protocolLevel: level, legacyUpstream: legacy,
                                     connectRate: rate)
    }

    private static func decodeConnectRate(_ value: JSONValue) throws(ValidationError) -> ConnectRate {
        func fail(_ message: String, _ key: String) -> ValidationError {
            pluginError("mqtt-proxy", "connect_rate\(key.isEmpty ? "" : ".\(key)")", message)
        }
        guard case .object(let dict) = value else {
            throw fail("property \"connect_rate\" must be an object {rate, burst}", "")
        }
        var rate: Double?
        var burst: Int?
        for (key, v) in dict {
            switch key {
            case "rate":
                guard let d = v.doubleValue, d > 0 else {
                    throw fail("property \"connect_rate.rate\" must be a number of CONNECTs per second > 0", key)
                }
                rate = d
            case "burst":
                guard let n = v.intValue, n >= 1 else {
                    throw fail("property \"connect_rate.burst\" must be an integer ≥ 1", key)
                }
                burst = n
            default:
                throw fail("additional properties forbidden in connect_rate, found \(key)", key)
            }
        }
        guard let rate else { throw fail("property \"connect_rate.rate\" is required", "rate") }
        return ConnectRate(rate: rate, burst: burst ?? max(1, Int(rate.rounded(.up))))
    }

    static func decodeLimitConn(_ value: JSONValue) throws(ValidationError) -> LimitConnConfig? {
        func fail(_ message: String, _ key: String = "") -> ValidationError { pluginError("limit-conn", key, message) }
        guard case .object(let dict) = value else { throw fail("expected an object, got \(value.typeName)") }
        var conn: Int?
        var burst: Int?
        var delay: Double?
        var onlyDefault = false
        var key: String?
        var keyType = LimitConnConfig.KeyType.variable
        for (name, v) in dict {
            switch name {
            case "conn":
                guard let n = v.intValue, n > 0 else { throw fail("property \"conn\" must be an integer > 0", name) }
                conn = n
            case "burst":
                guard let n = v.intValue, n >= 0 else { throw fail("property \"burst\" must be an integer ≥ 0", name) }
                burst = n
            case "default_conn_delay":
                guard let d = v.doubleValue, d > 0 else {
                    throw fail("property \"default_conn_delay\" must be a number of seconds > 0", name)
                }
                delay = d
            case "only_use_default_delay":
                guard case .bool(let b) = v else { throw fail("property \"only_use_default_delay\" must be a boolean", name) }
                onlyDefault = b
            case "key":
                guard case .string(let s) = v, !s.isEmpty else { throw fail("property \"key\" must be a non-empty string", name) }
                key = s
            case "key_type":
                guard let s = v.stringValue, let t = LimitConnConfig.KeyType(rawValue: s) else {
                    throw fail("property \"key_type\" must be var or var_combination", name)
                }
                keyType = t
            case "_meta", "disable":
                continue
            default:
                throw fail("additional properties forbidden, found \(name)", name)
            }
        }
        guard let conn else { throw fail("property \"conn\" is required", "conn") }
        guard let burst else { throw fail("property \"burst\" is required", "burst") }
        guard let delay else { throw fail("property \"default_conn_delay\" is required", "default_conn_delay") }
        guard let key else { throw fail("property \"key\" is required", "key") }
        let names = keyType == .variable ? [key] : VariableTemplate(key).variables
        guard !names.isEmpty else { throw fail("key \(key) names no $variable", "key") }
        for variable in names where !limitConnVariables.contains(variable) {
            throw fail("unknown variable \(variable) in key (stream variables: "
                       + limitConnVariables.sorted().joined(separator: ", ") + ")", "key")
        }
        if disabled(dict) { return nil }
        return LimitConnConfig(conn: conn, burst: burst, defaultConnDelay: delay, onlyUseDefaultDelay: onlyDefault,
                               key: key, keyType: keyType)
    }
}

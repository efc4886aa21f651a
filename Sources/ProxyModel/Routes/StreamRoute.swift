/// A stream route: which connections it takes (addresses, port, SNI) and where they go.
public struct StreamRoute: Sendable, Hashable {
    public var id: String
    public var name: String?
    public var desc: String?
    public var labels: [String: String] = [:]
    public var remoteAddr: CIDR?
    public var serverAddr: CIDR?
    public var serverPort: Int?
    public var sni: String?
    public var upstream: Upstream?
    public var upstreamID: String?
    public var mqttProxy: MQTTProxyPluginConfig?
    /// APISIX's stream `limit-conn` plugin.
    public var limitConn: LimitConnConfig?
    public var createTime: Int?
    public var updateTime: Int?

    public init(id: String, upstream: Upstream? = nil, upstreamID: String? = nil,
                mqttProxy: MQTTProxyPluginConfig? = nil)
    {
        self.id = id
        self.upstream = upstream
        self.upstreamID = upstreamID
        self.mqttProxy = mqttProxy
    }

    /// Decodes and validates a stream route object. `id` overrides (or supplies) the body's id.
    public init(json: JSONValue, id overrideID: String? = nil) throws(ValidationError) {
        var r = try ObjectReader(json, what: "stream route")
        var bodyID: String?
        if let v = r.value("id") { bodyID = try ObjectID.parse(v) }
        if let overrideID, let bodyID, overrideID != bodyID {
            throw ValidationError(field: "id", "wrong stream route id: \(bodyID) in the body, \(overrideID) in the URL")
        }
        guard let id = overrideID ?? bodyID else { throw ValidationError(field: "id", "missing id") }
        self.id = id
        name = try r.string("name", minLength: 1, maxLength: 100)
        desc = try r.string("desc", maxLength: 256)
        labels = try r.labels("labels")
        remoteAddr = try StreamRoute.cidr(&r, "remote_addr")
        serverAddr = try StreamRoute.cidr(&r, "server_addr")
        serverPort = try r.integer("server_port", range: 1...65535)
        if let sni = try r.string("sni", minLength: 1) {
            guard StreamRoute.isValidSNI(sni) else { throw r.error("sni", "invalid sni: \(sni)") }
            self.sni = sni.lowercased()
        }
        if let up = r.value("upstream") { upstream = try Upstream(json: up, prefix: "upstream") }
        if let upID = r.value("upstream_id") { upstreamID = try ObjectID.parse(upID, field: "upstream_id") }
        if r.value("service_id") != nil {
            throw r.error("service_id", "service_id is not supported; use upstream or upstream_id")
        }
        if let plugins = r.value("plugins") { (mqttProxy, limitConn) = try StreamRoute.decodePlugins(plugins) }
        createTime = try r.integer("create_time")
        updateTime = try r.integer("update_time")
        try r.rejectUnknown()
        if upstream == nil, upstreamID == nil, mqttProxy?.legacyUpstream == nil {
            throw ValidationError(field: "upstream", "missing upstream or upstream_id")
        }
    }

    private static func cidr(_ r: inout ObjectReader, _ key: String) throws(ValidationError) -> CIDR? {
        guard let s = try r.string(key) else { return nil }
        guard let c = CIDR(s) else { throw r.error(key, "invalid \(key): \(s)") }
        return c
    }

    /// A host name with an optional leading `*.` wildcard.
    public static func isValidSNI(_ sni: String) -> Bool {
        var rest = Substring(sni)
        if rest.hasPrefix("*.") { rest = rest.dropFirst(2) }
        guard !rest.isEmpty, rest.count <= 253 else { return false }
        return rest.unicodeScalars.allSatisfy { c in
            (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || c == "-" || c == "."
                || c == "_"
        }
    }
}

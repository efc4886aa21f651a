extension Upstream {
    /// Decodes and validates an upstream object (inline in a route, or stored on its own).
    public init(json: JSONValue, prefix: String = "") throws(ValidationError) {
        var r = try ObjectReader(json, prefix: prefix, what: prefix.isEmpty ? "upstream" : prefix)
        if let idValue = r.value("id") { id = try ObjectID.parse(idValue, field: r.path("id")) }
        name = try r.string("name", minLength: 1, maxLength: 100)
        desc = try r.string("desc", maxLength: 256)
        labels = try r.labels("labels")
        if let t = try r.string("type") {
            guard let parsed = UpstreamType(rawValue: t) else {
                throw r.error("type", "invalid type: \(t) (supported: roundrobin, chash, least_conn)")
            }
            type = parsed
        }
        guard let nodesValue = r.value("nodes") else {
            if r.value("service_name") != nil || r.value("discovery_type") != nil {
                throw r.error("discovery_type", "service discovery is not supported; list the nodes instead")
            }
            throw r.error("nodes", "missing nodes")
        }
        nodes = try Upstream.decodeNodes(nodesValue, path: r.path("nodes"))
        if let h = try r.string("hash_on") {
            guard let parsed = HashOn(rawValue: h) else {
                throw r.error("hash_on", "invalid hash_on: \(h) (supported: vars, header, cookie, consumer, "
                              + "vars_combinations)")
            }
            hashOn = parsed
        }
        key = try r.string("key", minLength: 1)
        if type == .chash {
            guard let key else { throw r.error("key", "missing key") }
            if hashOn == .vars, !streamHashVariables.contains(key) {
                throw r.error("key", "invalid key: \(key) (stream variables: "
                              + streamHashVariables.sorted().joined(separator: ", ") + ")")
            }
        }
        if type == .chash, Upstream.reducedWeightSum(nodes) > Upstream.maxChashWeightUnits {
            throw r.error("nodes", "invalid nodes: chash weights too large (sum of weights divided by their "
                          + "greatest common divisor must be ≤ \(Upstream.maxChashWeightUnits))")
        }
        retries = try r.integer("retries", range: 0...1_000_000)
        retryTimeout = try r.number("retry_timeout", minimum: 0)
        if let t = r.value("timeout") { timeout = try Upstream.decodeTimeout(t, path: r.path("timeout")) }
        if let s = try r.string("scheme") {
            guard s == "tcp" || s == "tls" else {
                throw r.error("scheme", "invalid scheme: \(s) (stream upstreams support tcp and tls)")
            }
            scheme = s
        }
        if let t = r.value("tls") { tls = try Upstream.decodeTLS(t, path: r.path("tls")) }
        if let c = r.value("checks") { checks = try HealthChecks(json: c, prefix: r.path("checks")) }
        if let p = try r.string("proxy_protocol") {
            guard let version = ProxyProtocolVersion(rawValue: p) else {
                throw r.error("proxy_protocol", "invalid proxy_protocol: \(p) (expected v1 or v2)")
            }
            proxyProtocol = version
        }
        // HTTP-only APISIX fields: valid in an APISIX upstream, meaningless for stream proxying.
        _ = try r.string("pass_host")
        _ = try r.string("upstream_host")
        _ = r.value("keepalive_pool")
        createTime = try r.integer("create_time")
        updateTime = try r.integer("update_time")
        try r.rejectUnknown()
    }

    /// Ring size bound: each weight unit is 160 ring points, so this keeps a ring under 16 M points.
    static let maxChashWeightUnits = 100_000

    static func reducedWeightSum(_ nodes: [UpstreamNode]) -> Int {
        func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
        let weights = nodes.map(\.weight).filter { $0 > 0 }
        let g = weights.reduce(0, gcd)
        return g == 0 ? 0 : weights.reduce(0) { $0 + $1 / g }
    }

    static func decodeNodes(_ value: JSONValue, path: String) throws(ValidationError) -> [UpstreamNode] {
        switch value {
        case .object(let map):
            var nodes: [UpstreamNode] = []
            for (address, weightValue) in map {
                let field = "\(path).\(address)"
                guard let endpoint = HostPort(address) else {
                    throw ValidationError(field: field, "invalid nodes: \(address) is not host:port (port 1…65535, IPv6 in brackets)")
                }
                let (host, port) = (endpoint.host, endpoint.port)
                guard let weight = weightValue.intValue, weight >= 0 else {
                    throw ValidationError(field: field, "invalid nodes: weight of \(address) must be an integer ≥ 0")
                }
                nodes.append(UpstreamNode(host: host, port: port, weight: weight))
            }
            return nodes
        case .array(let items):
            var nodes: [UpstreamNode] = []
            for (i, item) in items.enumerated() {
                var r = try ObjectReader(item, prefix: "\(path)[\(i)]", what: "nodes[\(i)]")
                guard let host = try r.string("host", minLength: 1) else {
                    throw r.error("host", "invalid nodes[\(i)]: missing host")
                }
                try validateHost(host, field: r.path("host"))
                guard let port = try r.integer("port", range: 1...65535) else {
                    throw r.error("port", "invalid nodes[\(i)]: missing port")
                }
                guard let weight = try r.integer("weight", range: 0...100_000_000) else {
                    throw r.error("weight", "invalid nodes[\(i)]: missing weight")
                }
                let priority = try r.integer("priority") ?? 0
                if let m = r.value("metadata") {
                    guard case .object = m else { throw r.error("metadata", "invalid metadata: expected an object") }
                }
                try r.rejectUnknown()
                nodes.append(UpstreamNode(host: host, port: port, weight: weight, priority: priority))
            }
            return nodes
        default:
            throw ValidationError(field: path, "invalid nodes: expected an array or an object, got \(value.typeName)")
        }
    }

    static func validateHost(_ host: String, field: String) throws(ValidationError) {
        if IPAddressBytes(host) != nil { return }
        let ok = host.count <= 253 && host.unicodeScalars.allSatisfy { c in
            (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || c == "-" || c == "."
                || c == "_"
        }
        guard ok else { throw ValidationError(field: field, "invalid host: \(host) (an IP address or a DNS name)") }
    }

    static func decodeTimeout(_ value: JSONValue, path: String) throws(ValidationError) -> UpstreamTimeout {
        var r = try ObjectReader(value, prefix: path, what: "timeout")
        var parts: [Double] = []
        for key in ["connect", "send", "read"] {
            guard let v = try r.number(key, minimum: 0, exclusive: true) else {
                throw r.error(key, "invalid timeout: missing \(key)")
            }
            parts.append(v)
        }
        try r.rejectUnknown()
        return UpstreamTimeout(connect: parts[0], send: parts[1], read: parts[2])
    }

    static func decodeTLS(_ value: JSONValue, path: String) throws(ValidationError) -> UpstreamTLS {
        var r = try ObjectReader(value, prefix: path, what: "tls")
        let tls = UpstreamTLS(
            clientCert: try r.string("client_cert"), clientKey: try r.string("client_key"),
            clientCertID: try r.string("client_cert_id"), verify: try r.bool("verify") ?? false)
        try r.rejectUnknown()
        if (tls.clientCert == nil) != (tls.clientKey == nil) {
            throw ValidationError(field: path, "invalid tls: client_cert and client_key go together")
        }
        if let cert = tls.clientCert, let key = tls.clientKey {
            _ = try SSLObject.checkPair(cert: cert, key: key, field: "\(path).client_cert")
        }
        if tls.clientCert != nil, tls.clientCertID != nil {
            throw ValidationError(field: "\(path).client_cert_id",
                                  "invalid tls: give client_cert/client_key or client_cert_id, not both")
        }
        return tls
    }
}

extension ProxyConfig {
    static func loadDeployment(_ value: JSONValue, into config: inout ProxyConfig,
                               fail: (String, String) -> SourceError, warn: (String, String) -> Void)
        throws(SourceError)
    {
        for (key, v) in try object(value, "deployment", fail) {
            let path = "deployment.\(key)"
            switch key {
            case "admin": try loadAdmin(v, into: &config.admin, fail: fail, warn: warn)
            case "etcd":
                var etcd = try loadEtcd(v, path: path, fail: fail, warn: warn)
                if let cache = config.etcd?.cachePath { etcd.cachePath = cache }  // mqtt_proxy.etcd_cache came first
                config.etcd = etcd
            case "role":
                guard let role = v.stringValue, ["traditional", "data_plane", "control_plane", "standalone"].contains(role)
                else { throw fail(path, "deployment.role must be traditional, data_plane, control_plane or standalone") }
                if role == "standalone" { config.configProvider = .file }
            case "role_traditional", "role_data_plane", "role_control_plane":
                for (k, item) in try object(v, path, fail) {
                    guard k == "config_provider" else {
                        warn("\(path).\(k)", "\(path).\(k) does not apply to mqtt-proxy; ignored")
                        continue
                    }
                    switch item.stringValue {
                    case "etcd": config.configProvider = .etcd
                    case "yaml": config.configProvider = .file
                    default:
                        throw fail("\(path).config_provider", "config_provider must be etcd or yaml")
                    }
                }
            case "config_provider":
                continue
            default:
                warn(path, "deployment.\(key) does not apply to mqtt-proxy; ignored")
            }
        }
    }

    static func loadAdmin(_ value: JSONValue, into admin: inout AdminConfig,
                          fail: (String, String) -> SourceError, warn: (String, String) -> Void)
        throws(SourceError)
    {
        let base = "deployment.admin"
        for (key, v) in try object(value, base, fail) {
            let path = "\(base).\(key)"
            switch key {
            case "admin_key":
                guard case .array(let entries) = v else { throw fail(path, "admin_key must be a list") }
                admin.keys = []
                for (i, entry) in entries.enumerated() {
                    let p = "\(path)[\(i)]"
                    guard case .object(let e) = entry else { throw fail(p, "an admin key is {name, key, role}") }
                    guard let key = e["key"]?.stringValue, !key.isEmpty else { throw fail(p, "admin key needs a key") }
                    let roleText = e["role"]?.stringValue ?? "admin"
                    guard let role = AdminKey.Role(rawValue: roleText) else {
                        throw fail("\(p).role", "invalid role \(roleText) (admin or viewer)")
                    }
                    admin.keys.append(AdminKey(name: e["name"]?.stringValue ?? "key\(i)", key: key, role: role))
                }
            case "admin_key_required":
                guard case .bool(let b) = v else { throw fail(path, "admin_key_required must be true or false") }
                admin.keyRequired = b
            case "admin_listen":
                for (k, item) in try object(v, path, fail) {
                    switch k {
                    case "ip":
                        guard let ip = item.stringValue, IPAddressBytes(ip) != nil else {
                            throw fail("\(path).ip", "admin_listen.ip must be an IP address")
                        }
                        admin.listenHost = ip
                    case "port":
                        guard let port = item.intValue, (0...65535).contains(port) else {
                            throw fail("\(path).port", "admin_listen.port must be 0…65535 (0: any free port)")
                        }
                        admin.listenPort = port
                    default:
                        throw fail("\(path).\(k)", "unknown admin_listen key \(k) (expected ip, port)")
                    }
                }
            case "allow_admin":
                guard case .array(let items) = v else { throw fail(path, "allow_admin must be a list of CIDRs") }
                admin.allowAdmin = []
                for (i, item) in items.enumerated() {
                    guard let s = item.stringValue, let c = CIDR(s) else {
                        throw fail("\(path)[\(i)]", "invalid CIDR in allow_admin: \(item.stringValue ?? item.jsonText)")
                    }
                    admin.allowAdmin.append(c)
                }
            default:
                warn(path, "deployment.admin.\(key) does not apply to mqtt-proxy; ignored")
            }
        }
    }

    static func loadEngine(_ value: JSONValue, into config: inout ProxyConfig,
                           fail: (String, String) -> SourceError, warn: (String, String) -> Void)
        throws(SourceError)
    {
        var e = config.engine
        for (key, v) in try object(value, "mqtt_proxy", fail) {
            let path = "mqtt_proxy.\(key)"
            func seconds() throws(SourceError) -> Double {
                guard let d = v.doubleValue, d > 0 else { throw fail(path, "\(key) must be a number of seconds > 0") }
                return d
            }
            switch key {
            case "store":
                guard let s = v.stringValue, !s.isEmpty else { throw fail(path, "store must be a file path") }
                config.storePath = s
            case "preread_max_bytes":
                guard let n = v.intValue, (16...16 * 1024 * 1024).contains(n) else {
                    throw fail(path, "preread_max_bytes must be an integer 16…16777216")
                }
                e.prereadMaxBytes = n
            case "preread_timeout": e.prereadTimeout = try seconds()
            case "connect_timeout": e.connectTimeout = try seconds()
            case "idle_timeout": e.idleTimeout = try seconds()
            case "drain_timeout": e.drainTimeout = try seconds()
            case "half_close_timeout": e.halfCloseTimeout = try seconds()
            case "shutdown_evict_per_second":
                guard let d = v.doubleValue, d > 0 else {
                    throw fail(path, "shutdown_evict_per_second must be a number of connections per second > 0")
                }
                e.shutdownEvictPerSecond = d
            case "shutdown_server_reference":
                guard let s = v.stringValue, !s.isEmpty, s.utf8.count <= 65_535 else {
                    throw fail(path, "shutdown_server_reference must be a non-empty string (e.g. \"mqtt-2.example.com:1883\")")
                }
                e.shutdownServerReference = s
            case "instance_id":
                guard let s = v.stringValue, !s.isEmpty, s.count <= 64 else {
                    throw fail(path, "instance_id must be a string of 1–64 characters")
                }
                e.instanceID = s
            case "max_connections":
                guard let n = v.intValue, n >= 1 else { throw fail(path, "max_connections must be an integer ≥ 1") }
                e.maxConnections = n
            case "proxy_protocol_trusted":
                guard case .array(let items) = v else {
                    throw fail(path, "proxy_protocol_trusted must be a list of CIDRs (e.g. [10.0.0.0/8])")
                }
                var list: [CIDR] = []
                for (i, item) in items.enumerated() {
                    guard let s = item.stringValue, let c = CIDR(s) else {
                        throw fail("\(path)[\(i)]", "invalid CIDR in proxy_protocol_trusted: \(item.stringValue ?? item.jsonText)")
                    }
                    list.append(c)
                }
                e.proxyProtocolTrusted = list
            case "dns_refresh": e.dnsRefresh = try seconds()
            case "store_watch_interval": e.storeWatchInterval = try seconds()
            case "admin_body_limit":
                guard let n = v.intValue, (1024...64 * 1024 * 1024).contains(n) else {
                    throw fail(path, "admin_body_limit must be an integer 1024…67108864 (bytes)")
                }
                config.admin.bodyLimit = n
            case "event_buffer":
                guard let n = v.intValue, (10...1_000_000).contains(n) else {
                    throw fail(path, "event_buffer must be an integer 10…1000000")
                }
                e.eventBufferSize = n
            case "log_level":
                let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
                guard let s = v.stringValue, levels.contains(s) else {
                    throw fail(path, "log_level must be one of " + levels.joined(separator: ", "))
                }
                e.logLevel = s
            case "etcd_cache":
                guard let s = v.stringValue, !s.isEmpty else { throw fail(path, "etcd_cache must be a file path") }
                var etcd = config.etcd ?? EtcdConfig()
                etcd.cachePath = s
                config.etcd = etcd
            case "log_file":
                guard let s = v.stringValue, !s.isEmpty else { throw fail(path, "log_file must be a file path") }
                e.logFile = s
            default:
                throw fail(path, "unknown setting mqtt_proxy.\(key)")
            }
        }
        config.engine = e
    }
}

extension ProxyConfig {
    /// `deployment.etcd`: APISIX's keys (`host`, `prefix`, `timeout`, `watch_timeout`, `resync_delay`, `user`,
    /// `password`, `tls {cert, key, verify, sni}`); keys of APISIX's that do not apply are ignored with a warning.
    static func loadEtcd(_ value: JSONValue, path: String, fail: (String, String) -> SourceError,
                         warn: (String, String) -> Void) throws(SourceError) -> EtcdConfig
    {
        var etcd = EtcdConfig()
        for (k, item) in try object(value, path, fail) {
            let p = "\(path).\(k)"
            func seconds() throws(SourceError) -> Double {
                guard let d = item.doubleValue, d > 0 else { throw fail(p, "etcd.\(k) must be a number of seconds > 0") }
                return d
            }
            func text() throws(SourceError) -> String {
                guard let s = item.stringValue, !s.isEmpty else { throw fail(p, "etcd.\(k) must be a non-empty string") }
                return s
            }
            switch k {
            case "host":
                let hosts: [String]
                if let one = item.stringValue {
                    hosts = [one]
                } else if case .array(let list) = item, !list.isEmpty, list.allSatisfy({ $0.stringValue != nil }) {
                    hosts = list.compactMap(\.stringValue)
                } else {
                    throw fail(p, "etcd.host must be a list of URLs such as http://127.0.0.1:2379")
                }
                for host in hosts where !(host.hasPrefix("http://") || host.hasPrefix("https://")) {
                    throw fail(p, "etcd.host: \(host) must start with http:// or https://")
                }
                etcd.hosts = hosts
            case "prefix":
                guard let s = item.stringValue, s.hasPrefix("/") else {
                    throw fail(p, "etcd.prefix must be a path starting with /")
                }
                etcd.prefix = s
            case "timeout": etcd.timeout = try seconds()
            case "watch_timeout": etcd.watchTimeout = try seconds()
            case "resync_delay": etcd.resyncDelay = try seconds()
            case "user": etcd.user = try text()
            case "password": etcd.password = try text()
            case "tls":
                for (t, entry) in try object(item, p, fail) {
                    switch t {
                    case "cert": etcd.tlsCert = entry.stringValue
                    case "key": etcd.tlsKey = entry.stringValue
                    case "sni": etcd.tlsSNI = entry.stringValue
                    case "verify":
                        guard case .bool(let b) = entry else { throw fail("\(p).verify", "etcd.tls.verify must be true or false") }
                        etcd.tlsVerify = b
                    default: warn("\(p).\(t)", "etcd.tls.\(t) is not used; ignored")
                    }
                }
                if (etcd.tlsCert == nil) != (etcd.tlsKey == nil) {
                    throw fail(p, "etcd.tls needs both cert and key, or neither")
                }
            case "startup_retry", "health_check_timeout", "use_grpc":
                continue
            default:
                warn(p, "etcd.\(k) is not used; ignored")
            }
        }
        if (etcd.user == nil) != (etcd.password == nil) {
            throw fail(path, "etcd needs both user and password, or neither")
        }
        return etcd
    }

    /// Checks that an etcd store is usable: `config_provider: etcd` needs `deployment.etcd.host`.
    static func checkProvider(_ config: ProxyConfig, fail: (String, String) -> SourceError) throws(SourceError) {
        guard config.configProvider == .etcd else { return }
        guard let etcd = config.etcd, !etcd.hosts.isEmpty else {
            throw fail("deployment.etcd", "config_provider is etcd but deployment.etcd.host lists no endpoint")
        }
    }
}

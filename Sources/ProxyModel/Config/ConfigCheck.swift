import Foundation

/// What `mqtt-proxy check` finds in a config and its store file, one line each.
public struct ConfigFinding: Sendable, Hashable, CustomStringConvertible {
    public enum Level: String, Sendable, Hashable { case ok, warning, error }
    public var level: Level
    public var message: String

    public var description: String { "\(level.rawValue): \(message)" }
}

extension ResolvedFiles {
    /// Every problem and warning of the config and the store file, then what was read; errors are what would make
    /// `serve` refuse to start or drop content.
    public func check() -> [ConfigFinding] {
        var out = loaded.warnings.map { ConfigFinding(level: .warning, message: $0.description) }
        let config = loaded.config
        if let problem = config.admin.publicKeyProblem {
            out.append(.init(level: .error, message: "\(configName): serve would refuse to start: \(problem)"))
        } else if let warning = config.admin.safetyWarning {
            out.append(.init(level: .warning, message: "\(configName): \(warning)"))
        }
        if !config.proxyMode.streamEnabled {
            out.append(.init(level: .warning, message: "\(configName): proxy_mode has no stream; no listener will start"))
        }
        if config.configProvider == .etcd, let etcd = config.etcd {
            out.append(.init(level: .ok, message: """
                \(configName): the store is etcd (\(etcd.hosts.joined(separator: ", ")), prefix \(etcd.normalizedPrefix)); \
                its content is checked when the proxy reads it (invalid values are left out and logged)
                """))
        } else {
            out += checkStore()
        }
        out.append(.init(level: .ok, message: "\(configName): \(config.listeners.count) listener(s)"))
        return out
    }

    private func checkStore() -> [ConfigFinding] {
        guard let data = FileManager.default.contents(atPath: storePath) else {
            return [.init(level: .warning, message: "\(storePath) does not exist; the proxy would start with no routes")]
        }
        let (resources, problems) = StandaloneFormat.decode(text: String(decoding: data, as: UTF8.self), file: storePath)
        var out = problems.map { ConfigFinding(level: .error, message: $0.description) }
        guard problems.isEmpty else { return out }
        let tlsListeners = loaded.config.listeners.filter(\.tls)
        let servable = resources.ssls.values.filter { $0.value.type == "server" && $0.value.enabled }
        if !tlsListeners.isEmpty, servable.isEmpty {
            out.append(.init(level: .warning, message: """
                \(storePath): no enabled server ssl object; TLS handshakes on \
                \(tlsListeners.map(\.description).joined(separator: ", ")) fail until one is added
                """))
        }
        for ssl in servable where ssl.value.summary.isExpired() {
            let s = ssl.value.summary
            out.append(.init(level: .warning, message: "\(storePath): ssl \(ssl.id): certificate \(s.subject) expired "
                + "or not yet valid (valid \(s.notValidBefore) – \(s.notValidAfter))"))
        }
        out.append(.init(level: .ok, message: """
            \(storePath): \(resources.streamRoutes.count) stream route(s), \(resources.upstreams.count) upstream(s), \
            \(resources.ssls.count) ssl(s)
            """))
        return out
    }
}

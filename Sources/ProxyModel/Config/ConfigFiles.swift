import Foundation

/// The config and store files after defaults: which config was read (nil for the built-in one), the store path,
/// and the config itself.
public struct ResolvedFiles: Sendable {
    public var configPath: String?
    public var storePath: String
    public var loaded: LoadedConfig

    public init(configPath: String?, storePath: String, loaded: LoadedConfig) {
        self.configPath = configPath
        self.storePath = storePath
        self.loaded = loaded
    }

    /// The config's name in messages: its path, or `<built-in config>`.
    public var configName: String { configPath ?? ResolvedFiles.builtInName }

    static let builtInName = "<built-in config>"
    /// Where the config is looked for when none is named.
    public static let defaultConfigPath = "conf/config.yaml"

    /// Reads `config` (or `conf/config.yaml`, or the built-in default when that does not exist) and works out the
    /// store path: `store` when given, else the config's `mqtt_proxy.store` beside the config file. Relative
    /// certificate paths in the config are resolved against its folder too.
    public static func resolve(config: String?, store: String?) throws(SourceError) -> ResolvedFiles {
        var configPath: String? = config ?? defaultConfigPath
        var loaded: LoadedConfig
        if let path = configPath, FileManager.default.fileExists(atPath: path) {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw SourceError(file: path, position: nil, message: "cannot read the file")
            }
            loaded = try ProxyConfig.load(text: String(decoding: data, as: UTF8.self), file: path)
        } else if let config {
            throw SourceError(file: config, position: nil, message: "no such file")
        } else {
            configPath = nil
            loaded = LoadedConfig(config: .builtInDefault, warnings: [])
        }
        let dir = configPath.map { ($0 as NSString).deletingLastPathComponent } ?? "conf"
        if let trusted = loaded.config.engine.tls.trustedCertificateFile {
            let full = relative(trusted, to: dir)
            guard let data = FileManager.default.contents(atPath: full),
                  String(decoding: data, as: UTF8.self).contains("-----BEGIN CERTIFICATE-----")
            else {
                throw SourceError(file: configPath ?? builtInName, position: nil,
                                  message: "apisix.ssl.ssl_trusted_certificate: \(full) is not a readable PEM certificate file")
            }
            loaded.config.engine.tls.trustedCertificateFile = full
        }
        let storePath = store ?? relative(loaded.config.storePath, to: dir)
        if var etcd = loaded.config.etcd {
            etcd.cachePath = relative(etcd.cachePath, to: dir)
            loaded.config.etcd = etcd
        }
        return ResolvedFiles(configPath: configPath, storePath: storePath, loaded: loaded)
    }

    /// What start-up logs before anything listens: ignored keys, the built-in config in use, admin key safety.
    public var startupNotes: [(warning: Bool, text: String)] {
        var notes = loaded.warnings.map { (warning: true, text: $0.description) }
        if configPath == nil, loaded.config == .builtInDefault {
            notes.append((false, "no \(ResolvedFiles.defaultConfigPath): using the built-in default config"))
        }
        if let warning = loaded.config.admin.safetyWarning { notes.append((true, "admin API: \(warning)")) }
        if !loaded.config.proxyMode.streamEnabled || loaded.config.listeners.isEmpty {
            notes.append((true, "no stream listener configured (apisix.stream_proxy.tcp)"))
        }
        return notes
    }

    private static func relative(_ path: String, to dir: String) -> String {
        path.hasPrefix("/") || dir.isEmpty ? path : "\(dir)/\(path)"
    }
}

/// This build's version, as `/v1`, the fleet registration and `--version` show it.
public enum ProductVersion {
    public static let current = "1.1.0-dev"
}

extension AdminKey {
    /// The admin key of APISIX's documentation, so the plugin document's curl commands work against a default
    /// install. It is public: the admin API refuses to start with it on anything but loopback.
    public static let documentedExample = AdminKey(name: "admin", key: "edd1c9f034335f136f87ad84b625c8f1", role: .admin)
}

extension ProxyConfig {
    /// The configuration used when there is no conf/config.yaml: the plugin document's set-up (MQTT on 9100, MQTT
    /// over TLS on 9333, the admin API on 127.0.0.1:9180 with the documented key).
    public static var builtInDefault: ProxyConfig {
        var config = ProxyConfig()
        config.listeners = [StreamListener(port: 9100), StreamListener(port: 9333, tls: true)]
        config.admin.keys = [AdminKey.documentedExample]
        return config
    }
}

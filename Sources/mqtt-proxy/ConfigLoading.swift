import ArgumentParser
import Foundation
import ProxyModel

/// The config and store paths after defaults, plus the loaded config.
struct ResolvedFiles {
    var configPath: String?
    var storePath: String
    var loaded: LoadedConfig
}

/// The configuration used when there is no conf/config.yaml: the seed's set-up.
let embeddedDefaultConfig = """
    apisix:
      proxy_mode: http&stream
      stream_proxy:
        tcp:
          - 9100
          - addr: 9333
            tls: true
    deployment:
      admin:
        admin_key_required: true
        admin_key:
          - name: admin
            key: edd1c9f034335f136f87ad84b625c8f1
            role: admin
        admin_listen:
          ip: 127.0.0.1
          port: 9180

    """

extension FileOptions {
    /// Reads the config (or the built-in default) and works out the store path.
    func resolve() throws(SourceError) -> ResolvedFiles {
        let defaultPath = "conf/config.yaml"
        var configPath: String? = config ?? defaultPath
        let text: String
        if let path = configPath, FileManager.default.fileExists(atPath: path) {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw SourceError(file: path, position: nil, message: "cannot read the file")
            }
            text = String(decoding: data, as: UTF8.self)
        } else if config != nil {
            throw SourceError(file: config!, position: nil, message: "no such file")
        } else {
            configPath = nil
            text = embeddedDefaultConfig
        }
        var loaded = try ProxyConfig.load(text: text, file: configPath ?? "<built-in config>")
        let dir = configPath.map { ($0 as NSString).deletingLastPathComponent } ?? "conf"
        if let trusted = loaded.config.engine.tls.trustedCertificateFile {
            let full = trusted.hasPrefix("/") || dir.isEmpty ? trusted : "\(dir)/\(trusted)"
            guard let data = FileManager.default.contents(atPath: full),
                  String(decoding: data, as: UTF8.self).contains("-----BEGIN CERTIFICATE-----")
            else {
                throw SourceError(file: configPath ?? "<built-in config>", position: nil,
                                  message: "apisix.ssl.ssl_trusted_certificate: \(full) is not a readable PEM certificate file")
            }
            loaded.config.engine.tls.trustedCertificateFile = full
        }
        let storePath: String
        if let store {
            storePath = store
        } else {
            let configured = loaded.config.storePath
            if configured.hasPrefix("/") {
                storePath = configured
            } else {
                storePath = dir.isEmpty ? configured : "\(dir)/\(configured)"
            }
        }
        return ResolvedFiles(configPath: configPath, storePath: storePath, loaded: loaded)
    }
}

extension FileOptions {
    /// `resolve()`, printing the problem and exiting 1 when the config cannot be read.
    func resolveOrExit() throws -> ResolvedFiles {
        do {
            return try resolve()
        } catch {
            printError("error: \(error)")
            throw ExitCode(1)
        }
    }
}

/// Writes a line to standard error.
func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

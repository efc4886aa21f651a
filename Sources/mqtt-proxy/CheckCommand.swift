import ArgumentParser
import Foundation
import ProxyModel

/// `mqtt-proxy check`: validates the config and the store and lists every problem.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate config.yaml and the store file; print every problem with file, line and reason.")

    @OptionGroup var files: FileOptions

    func run() throws {
        var errors = 0
        let resolved = try files.resolveOrExit()
        for warning in resolved.loaded.warnings { print("warning: \(warning)") }
        let admin = resolved.loaded.config.admin
        if let problem = admin.publicKeyProblem {
            print("error: \(resolved.configPath ?? "config"): serve would refuse to start: \(problem)")
            errors += 1
        } else if let warning = admin.safetyWarning {
            print("warning: \(resolved.configPath ?? "config"): \(warning)")
        }
        if !resolved.loaded.config.proxyMode.streamEnabled {
            print("warning: \(resolved.configPath ?? "config"): proxy_mode has no stream; no listener will start")
        }
        let storePath = resolved.storePath
        if FileManager.default.fileExists(atPath: storePath) {
            let text = String(decoding: FileManager.default.contents(atPath: storePath) ?? Data(), as: UTF8.self)
            let (resources, problems) = StandaloneFormat.decode(text: text, file: storePath)
            for p in problems { print("error: \(p)") }
            errors += problems.count
            let tlsListeners = resolved.loaded.config.listeners.filter(\.tls)
            let servable = resources.ssls.values.filter { $0.value.type == "server" && $0.value.enabled }
            if problems.isEmpty, !tlsListeners.isEmpty, servable.isEmpty {
                print("""
                    warning: \(storePath): no enabled server ssl object; TLS handshakes on \
                    \(tlsListeners.map(\.description).joined(separator: ", ")) fail until one is added
                    """)
            }
            for ssl in servable where ssl.value.summary.isExpired() {
                print("warning: \(storePath): ssl \(ssl.id): certificate \(ssl.value.summary.subject) expired or not yet valid "
                      + "(valid \(ssl.value.summary.notValidBefore) – \(ssl.value.summary.notValidAfter))")
            }
            if problems.isEmpty {
                print("""
                    ok: \(storePath): \(resources.streamRoutes.count) stream route(s), \
                    \(resources.upstreams.count) upstream(s), \(resources.ssls.count) ssl(s)
                    """)
            }
        } else {
            print("warning: \(storePath) does not exist; the proxy would start with no routes")
        }
        print("ok: \(resolved.configPath ?? "<built-in config>"): \(resolved.loaded.config.listeners.count) listener(s)")
        if errors > 0 {
            print("\(errors) problem(s) found")
            throw ExitCode(1)
        }
    }
}

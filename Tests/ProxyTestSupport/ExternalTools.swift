import Console
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import NIOPosix
import Testing
import ProxyControl

/// Finds the real programs the end-to-end tests drive (mosquitto, mosquitto_pub/sub, tmux, curl, python3…).
///
/// A test that needs them carries `.requires(...)`: without the tools it shows as skipped, not passed. With
/// `MQTT_PROXY_REQUIRE_E2E` set (CI sets it) it runs anyway, and `paths(_:)` fails it, naming what is missing.
public enum ExternalTools {
    static let searchPath = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        + ["/usr/sbin", "/usr/local/sbin", "/sbin", "/usr/bin"]

    /// Whether every end-to-end test must run for real (CI).
    public static var required: Bool { ProcessInfo.processInfo.environment["MQTT_PROXY_REQUIRE_E2E"] != nil }

    /// Absolute path of `name`, or nil.
    public static func find(_ name: String) -> String? {
        for dir in searchPath {
            let path = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    /// Whether every tool in `names` is installed.
    public static func installed(_ names: [String]) -> Bool { names.allSatisfy { find($0) != nil } }

    /// Paths of every tool in `names`; throws, naming the missing ones and their packages.
    public static func paths(_ names: [String]) throws -> [String: String] {
        var found: [String: String] = [:]
        for name in names { found[name] = find(name) }
        let missing = names.filter { found[$0] == nil }
        guard missing.isEmpty else {
            throw BrokerError(message: "missing \(missing.joined(separator: ", ")) (\(installHint(missing)))")
        }
        return found
    }

    /// The Debian packages that hold `tools`.
    static func installHint(_ tools: [String]) -> String {
        let packages = Set(tools.map { tool -> String in
            switch tool {
            case "mosquitto_pub", "mosquitto_sub": return "mosquitto-clients"
            case "etcdctl": return "etcd-client"
            case "etcd": return "etcd-server"
            default: return tool
            }
        })
        return "apt-get install " + packages.sorted().joined(separator: " ")
    }

    /// Whether some process listens on `host:port` (IPv4), read from /proc/net/tcp: no connection is made.
    public static func isListening(_ host: String, _ port: Int) -> Bool {
        guard let table = try? String(contentsOfFile: "/proc/net/tcp", encoding: .utf8) else { return false }
        let octets = host.split(separator: ".").compactMap { UInt8($0) }
        guard octets.count == 4 else { return false }
        let address = octets.reversed().map { String(format: "%02X", $0) }.joined() + String(format: ":%04X", port)
        return table.split(separator: "\n").contains { line in
            let fields = line.split(separator: " ")
            return fields.count > 3 && fields[1] == address && fields[3] == "0A"
        }
    }

    /// A TCP port that was free a moment ago on 127.0.0.1.
    ///
    /// Picked below the kernel's ephemeral range (32768 and up by default): a port from that range, once released,
    /// can be taken by any test's outgoing connection before the server started on it binds (EADDRINUSE seen in
    /// clean-clone runs). Random ports in 20000–32000 are checked by binding them.
    public static func freePort() throws -> Int {
        let group = MultiThreadedEventLoopGroup.singleton
        for _ in 0..<200 {
            let candidate = Int.random(in: 20_000..<32_000)
            guard let ch = try? ServerBootstrap(group: group).bind(host: "127.0.0.1", port: candidate).wait() else {
                continue
            }
            try ch.close().wait()
            return candidate
        }
        let ch = try ServerBootstrap(group: group).bind(host: "127.0.0.1", port: 0).wait()
        let port = ch.localAddress?.port ?? 0
        try ch.close().wait()
        return port
    }
}

/// A child process started by a test (posix_spawn) and stopped by its PID; output goes to a temp file.
public final class ChildProcess: @unchecked Sendable {
    public let pid: pid_t
    private let outputPath: String
    private let lock = NSLock()
    private var status: Int32?

    /// Starts `path` with `arguments`; standard output and error are collected.
    public init(_ path: String, _ arguments: [String]) throws {
        outputPath = NSTemporaryDirectory() + "child-\(UUID().uuidString).out"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        switch CleanSpawn.spawn(path, argv: [path] + arguments, fileActions: &actions) {
        case .success(let child): pid = child
        case .failure(let error): throw BrokerError(message: "cannot start \(path): \(error.reason)")
        }
    }

    /// Everything the process printed so far.
    public var text: String {
        (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
    }

    /// Whether it is still running (reaps it when it has exited).
    public var isRunning: Bool {
        lock.lock()
        defer { lock.unlock() }
        if status != nil { return false }
        var st: Int32 = 0
        let r = waitpid(pid, &st, WNOHANG)
        if r == pid {
            status = (st & 0x7F) == 0 ? (st >> 8) & 0xFF : 128 + (st & 0x7F)
            return false
        }
        return r == 0
    }

    /// Waits for the process to exit; returns its status, or nil (after killing it) on timeout.
    @discardableResult
    public func wait(timeout: Double) async -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while isRunning {
            if Date() >= deadline {
                stop()
                return nil
            }
            try? await Task.sleep(nanoseconds: 5_000_000)
        }
        return lock.withLock { status }
    }

    /// Sends SIGTERM to this process (by PID), then SIGKILL if it does not go within a second.
    public func stop() {
        guard isRunning else { return }
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(1)
        while isRunning, Date() < deadline { usleep(5_000) }
        if isRunning {
            kill(pid, SIGKILL)
            while isRunning { usleep(5_000) }
        }
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(atPath: outputPath)
    }
}

/// A real mosquitto broker on a free loopback port, with its own config in a temp folder.
public final class MosquittoBroker: Sendable {
    public let host: String
    public let port: Int
    public let child: ChildProcess
    public let directory: String

    /// A TLS listener for the broker: PEM texts of the CA (which also verifies client certificates), the
    /// broker's certificate and key; `requireCertificate` makes clients present a certificate from the CA.
    public struct TLS: Sendable {
        public var ca: String
        public var cert: String
        public var key: String
        public var requireCertificate: Bool

        public init(ca: String, cert: String, key: String, requireCertificate: Bool = false) {
            self.ca = ca
            self.cert = cert
            self.key = key
            self.requireCertificate = requireCertificate
        }
    }

    /// Starts mosquitto on `host` and `port` (a free port when nil); with `tls` the listener speaks TLS only;
    /// without `allowAnonymous` every CONNECT without credentials gets CONNACK 0x05 (3.1.1) / 0x87 (5).
    public static func start(binary: String, host: String = "127.0.0.1", port fixedPort: Int? = nil,
                             tls: TLS? = nil, allowAnonymous: Bool = true) async throws -> MosquittoBroker
    {
        let dir = NSTemporaryDirectory() + "mosquitto-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var tlsLines = ""
        if let tls {
            // Readable by all: mosquitto started as root drops to the `mosquitto` user before reading them.
            for (name, pem) in [("ca.crt", tls.ca), ("broker.crt", tls.cert), ("broker.key", tls.key)] {
                try pem.write(toFile: "\(dir)/\(name)", atomically: true, encoding: .utf8)
                try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: "\(dir)/\(name)")
            }
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir)
            tlsLines = "cafile \(dir)/ca.crt\ncertfile \(dir)/broker.crt\nkeyfile \(dir)/broker.key\n"
                + "require_certificate \(tls.requireCertificate)\n"
        }
        for _ in 0..<(fixedPort == nil ? 5 : 1) {
            let port = try fixedPort ?? ExternalTools.freePort()
            let conf = "listener \(port) \(host)\n\(tlsLines)allow_anonymous \(allowAnonymous)\npersistence false\n"
            try conf.write(toFile: dir + "/mosquitto.conf", atomically: true, encoding: .utf8)
            let child = try ChildProcess(binary, ["-c", dir + "/mosquitto.conf", "-v"])
            let deadline = Date().addingTimeInterval(5)
            while Date() < deadline, child.isRunning {
                if child.text.contains("running") || child.text.contains("Opening ipv4 listen socket") {
                    if (try? await probe(host, port)) == true {
                        return MosquittoBroker(host: host, port: port, child: child, directory: dir)
                    }
                }
                try await Task.sleep(nanoseconds: 20_000_000)
            }
            child.stop()
        }
        throw BrokerError(message: "mosquitto did not start on \(host):\(fixedPort ?? 0)")
    }

    private init(host: String, port: Int, child: ChildProcess, directory: String) {
        self.host = host
        self.port = port
        self.child = child
        self.directory = directory
    }

    private static func probe(_ host: String, _ port: Int) async throws -> Bool {
        let ch = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: host, port: port).get()
        try await ch.close()
        return true
    }

    /// `host:port`.
    public var address: String { "\(host):\(port)" }

    /// Freezes the broker (SIGSTOP, by its PID): the kernel still accepts connections, nothing answers them.
    public func hang() { kill(child.pid, SIGSTOP) }

    /// Lets a frozen broker run again (SIGCONT).
    public func unhang() { kill(child.pid, SIGCONT) }

    /// Stops the broker by its PID and removes its folder.
    public func stop() {
        unhang()
        child.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

extension Trait where Self == ConditionTrait {
    /// Runs the test only where `tools` are installed (it shows as skipped elsewhere), and always under
    /// `MQTT_PROXY_REQUIRE_E2E`, where a missing tool fails it.
    public static func requires(_ tools: String...) -> Self {
        .enabled(if: ExternalTools.required || ExternalTools.installed(tools),
                 Comment(rawValue: "needs \(tools.joined(separator: ", ")): \(ExternalTools.installHint(tools))"))
    }
}

/// A test's helper process or server could not do its part.
public struct BrokerError: Error, CustomStringConvertible {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}

import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A real etcd on loopback for a test: its own data folder, free ports, stopped by its PID; `etcdctl` against it.
public final class EtcdServer: @unchecked Sendable {
    // @unchecked: `child` changes only in `kill`/`restart`, which tests call from one task.
    public let clientPort: Int
    public let peerPort: Int
    public let dataDir: String
    let binary: String
    let ctl: String
    public private(set) var child: ChildProcess

    /// `http://127.0.0.1:<port>`.
    public var endpoint: String { "http://127.0.0.1:\(clientPort)" }

    /// Starts etcd (retrying on another port pair if one was taken meanwhile).
    public static func start() async throws -> EtcdServer {
        let tools = try ExternalTools.paths(["etcd", "etcdctl"])
        var lastError: Error = BrokerError(message: "etcd did not start")
        for _ in 0..<5 {
            let dir = NSTemporaryDirectory() + "etcd-\(UUID().uuidString)"
            do {
                let server = try await EtcdServer(binary: tools["etcd"]!, ctl: tools["etcdctl"]!, dataDir: dir,
                                                  clientPort: ExternalTools.freePort(), peerPort: ExternalTools.freePort())
                return server
            } catch {
                lastError = error
                try? FileManager.default.removeItem(atPath: dir)
            }
        }
        throw lastError
    }

    private init(binary: String, ctl: String, dataDir: String, clientPort: Int, peerPort: Int) async throws {
        self.binary = binary
        self.ctl = ctl
        self.dataDir = dataDir
        self.clientPort = clientPort
        self.peerPort = peerPort
        child = try EtcdServer.launch(binary, dataDir, clientPort, peerPort)
        try await waitUntilServing()
    }

    static func launch(_ binary: String, _ dataDir: String, _ clientPort: Int, _ peerPort: Int) throws -> ChildProcess {
        let peer = "http://127.0.0.1:\(peerPort)"
        let client = "http://127.0.0.1:\(clientPort)"
        return try ChildProcess(binary, [
            "--name", "test", "--data-dir", dataDir, "--listen-client-urls", client, "--advertise-client-urls", client,
            "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer, "--initial-cluster", "test=\(peer)",
            "--log-level", "error", "--logger", "zap",
        ])
    }

    private func waitUntilServing() async throws {
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline, child.isRunning {
            if let (status, _) = try? await run(["endpoint", "health"], timeout: 5), status == 0 { return }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        child.stop()
        throw BrokerError(message: "etcd did not serve on \(endpoint): \(child.text)")
    }

    /// Runs `etcdctl --endpoints <this> <arguments>`; its exit status and output.
    @discardableResult
    public func run(_ arguments: [String], timeout: Double = 10) async throws -> (Int32?, String) {
        let p = try ChildProcess(ctl, ["--endpoints", endpoint, "--command-timeout=3s"] + arguments)
        let status = await p.wait(timeout: timeout)
        return (status, p.text)
    }

    /// `etcdctl put key value`; fails the caller when it does not succeed.
    public func put(_ key: String, _ value: String) async throws {
        let (status, out) = try await run(["put", key, value])
        guard status == 0 else { throw BrokerError(message: "etcdctl put \(key) failed: \(out)") }
    }

    /// The current revision (from `etcdctl endpoint status`).
    public func revision() async throws -> Int {
        let (_, out) = try await run(["endpoint", "status", "-w", "json"])
        guard let range = out.range(of: "\"revision\":"),
              let number = Int(out[range.upperBound...].prefix { $0.isNumber })
        else { throw BrokerError(message: "no revision in \(out)") }
        return number
    }

    /// Compacts the history up to the current revision.
    public func compact() async throws {
        let revision = try await revision()
        let (status, out) = try await run(["compact", "\(revision)"])
        guard status == 0 else { throw BrokerError(message: "etcdctl compact failed: \(out)") }
    }

    /// Stops etcd hard (SIGKILL, by its PID); its data stays.
    public func kill() {
        Glibc.kill(child.pid, SIGKILL)
        _ = child.isRunning
        while child.isRunning { usleep(5_000) }
    }

    /// Starts etcd again on the same ports and data (a fresh data folder with `wipe`: an etcd restored to
    /// nothing, whose revisions start over).
    public func restart(wipe: Bool = false) async throws {
        if child.isRunning { kill() }
        if wipe { try? FileManager.default.removeItem(atPath: dataDir) }
        child = try EtcdServer.launch(binary, dataDir, clientPort, peerPort)
        try await waitUntilServing()
    }

    /// Process CPU time (user + system) of etcd so far, in seconds, from /proc.
    public var cpuSeconds: Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(child.pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")")
        else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        let ticks = (Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0)
        return ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Stops etcd by its PID and removes its data.
    public func stop() {
        child.stop()
        try? FileManager.default.removeItem(atPath: dataDir)
    }
}

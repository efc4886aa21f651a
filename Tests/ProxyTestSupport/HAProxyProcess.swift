import Foundation

/// A real HAProxy for tests: one TCP frontend on `host:port` in front of one server, optionally sending the PROXY
/// protocol to it. Started in the foreground (`-db`) with its config in a temp folder; stopped by pid.
public final class HAProxyProcess: Sendable {
    public let host: String
    public let port: Int
    public let child: ChildProcess
    public let directory: String

    /// Starts HAProxy on `host` (a free port) forwarding to `server` (`ip:port`); `serverOptions` are appended to
    /// the `server` line (`send-proxy-v2`).
    public static func start(binary: String, host: String = "127.0.0.1", server: String,
                             serverOptions: String = "") async throws -> HAProxyProcess
    {
        let dir = NSTemporaryDirectory() + "haproxy-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for _ in 0..<5 {
            let port = try ExternalTools.freePort()
            let config = """
                global
                    maxconn 1000
                defaults
                    mode tcp
                    timeout connect 5s
                    timeout client 60s
                    timeout server 60s
                frontend edge
                    bind \(host):\(port)
                    default_backend proxies
                backend proxies
                    server proxy \(server) \(serverOptions)

                """
            try config.write(toFile: dir + "/haproxy.cfg", atomically: true, encoding: .utf8)
            let child = try ChildProcess(binary, ["-db", "-f", dir + "/haproxy.cfg"])
            let deadline = Date().addingTimeInterval(5)
            while Date() < deadline, child.isRunning {
                if ExternalTools.isListening(host, port) {
                    return HAProxyProcess(host: host, port: port, child: child, directory: dir)
                }
                try await Task.sleep(nanoseconds: 20_000_000)
            }
            child.stop()
        }
        try? FileManager.default.removeItem(atPath: dir)
        throw BrokerError(message: "haproxy did not start on \(host)")
    }

    private init(host: String, port: Int, child: ChildProcess, directory: String) {
        self.host = host
        self.port = port
        self.child = child
        self.directory = directory
    }

    public func stop() {
        child.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

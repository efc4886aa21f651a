import Foundation

/// `mqtt-proxy serve` as a child process, configured with port 0 everywhere and asked which ports it bound (from
/// its `ready:` and `admin API on` log lines): no port is probed and released first, so tests running side by side
/// never race for one.
public final class ServeProcess: Sendable {
    public let child: ChildProcess
    /// The bound stream listener ports, in config order.
    public let streamPorts: [Int]
    public let adminPort: Int

    /// Starts `binary serve` with `arguments`; throws when it does not say it is ready within `timeout`. With
    /// `ulimit` (e.g. `-Sn 256`) the shell sets that limit first and then becomes the proxy (same pid).
    public init(binary: String, arguments: [String], timeout: Double = 20, ulimit: String? = nil) async throws {
        if let ulimit {
            // Descriptors the test process opened while spawning (other tests run in parallel) are closed first,
            // so the proxy starts with only 0, 1 and 2 and a tight limit always runs out at the same point.
            let closeInherited = "for f in /proc/$$/fd/*; do n=${f##*/}; [ \"$n\" -gt 2 ] 2>/dev/null && eval \"exec $n>&-\"; done; "
            child = try ChildProcess("/bin/bash", ["-c", closeInherited + "ulimit \(ulimit) && exec \"$0\" \"$@\"", binary, "serve"]
                                     + arguments)
        } else {
            child = try ChildProcess(binary, ["serve"] + arguments)
        }
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline, child.isRunning,
              !(child.text.contains("ready: stream listeners") && child.text.contains("admin API on "))
        {
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        let text = child.text
        guard let ready = ServeProcess.line(after: "ready: stream listeners ", in: text),
              let admin = ServeProcess.line(after: "admin API on ", in: text)
        else {
            child.stop()
            throw BrokerError(message: "serve did not start: \(text)")
        }
        streamPorts = ready.split(separator: ";")[0].split(separator: ",")
            .compactMap { Int($0.split(separator: ":").last?.split(separator: " ").first ?? "") }
        adminPort = Int(admin.split(separator: ":").last ?? "") ?? 0
    }

    /// A config.yaml for tests: one plaintext listener and the admin API on 127.0.0.1, both on port 0, the
    /// documented admin key, `mqttProxy` lines (indented, without the `mqtt_proxy:` key) for our own settings, and
    /// with `etcd` the etcd store at that endpoint (short timeouts, so outages show quickly).
    /// `listeners` replaces the one plaintext listener with these `stream_proxy.tcp` entries (YAML flow items).
    public static func config(mqttProxy: [String] = [], etcd: String? = nil,
                              listeners: [String] = ["\"127.0.0.1:0\""]) -> String
    {
        let store = etcd.map {
            """
              role: traditional
              role_traditional: {config_provider: etcd}
              etcd: {host: ["\($0)"], prefix: /apisix, timeout: 2, watch_timeout: 10, resync_delay: 0.3}

            """
        } ?? ""
        return """
        apisix:
          stream_proxy:
            tcp: [\(listeners.joined(separator: ", "))]
        deployment:
        \(store)  admin:
            admin_key: [{name: admin, key: edd1c9f034335f136f87ad84b625c8f1, role: admin}]
            admin_listen: {ip: 127.0.0.1, port: 0}
        \(mqttProxy.isEmpty ? "" : "mqtt_proxy:\n" + mqttProxy.map { "  " + $0 }.joined(separator: "\n"))

        """
    }

    /// `curl`-free admin requests: method, path, optional JSON body; the status and body.
    public func admin(_ method: String, _ path: String, body: String? = nil) async throws -> (Int, String) {
        try await AdminCall.send(method, "http://127.0.0.1:\(adminPort)\(path)", body: body)
    }

    /// The rest of the first log line containing `marker`, after it.
    public static func line(after marker: String, in text: String) -> String? {
        guard let range = text.range(of: marker) else { return nil }
        let rest = text[range.upperBound...]
        return String(rest.prefix { $0 != "\n" }).trimmingCharacters(in: .whitespaces)
    }

    public var pid: pid_t { child.pid }
    public var text: String { child.text }
    public func stop() { child.stop() }
}

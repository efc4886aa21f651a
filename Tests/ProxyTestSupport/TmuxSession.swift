import Foundation

/// A detached tmux session on a private server (`tmux -L <socket>`), for driving full-screen programs in
/// tests: start a command in a pane of a fixed size, type keys, read the screen, stop the server.
///
/// Every call goes to this session's own socket, so tests never touch a user's tmux, and `stop()` kills only
/// the server this session started.
public struct TmuxSession: Sendable {
    /// Path of the tmux binary.
    public let tmux: String
    /// The private server's socket name (`-L`).
    public let socket: String
    /// The session's name on that server.
    public let name: String

    /// Starts `command` (a shell command line) in a new detached session of `width`×`height` cells, with
    /// `TERM` and UTF-8 set for the pane. `environment` is added to the command's environment.
    public static func start(tmux: String, command: String, width: Int = 120, height: Int = 40,
                             term: String = "tmux-256color", environment: [String: String] = [:]) async throws
        -> TmuxSession
    {
        let session = TmuxSession(tmux: tmux, socket: "mqtt-proxy-test-\(UUID().uuidString.prefix(8))", name: "main")
        let assignments = (["TERM": term, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"].merging(environment) { $1 })
            .sorted { $0.key < $1.key }
            .map { "\($0.key)=\(TmuxSession.shellQuoted($0.value))" }
        let line = "env \(assignments.joined(separator: " ")) \(command)"
        try await session.run(["new-session", "-d", "-s", session.name, "-x", "\(width)", "-y", "\(height)", line])
        return session
    }

    /// Sends keys as tmux names them (`q`, `Enter`, `Escape`, `C-c`, `Up`, …), one argument per key.
    public func send(keys: String...) async throws {
        try await run(["send-keys", "-t", name] + keys)
    }

    /// Types `text` literally (no key-name lookup).
    public func type(_ text: String) async throws {
        try await run(["send-keys", "-t", name, "-l", text])
    }

    /// The visible text of the pane, one line per row.
    public func capture() async throws -> String {
        try await run(["capture-pane", "-p", "-t", name])
    }

    /// Captures the pane until `condition` holds or `timeout` seconds pass; returns the last capture and
    /// whether the condition held.
    public func waitFor(timeout: Double = 15, _ condition: (String) -> Bool) async throws
        -> (screen: String, ok: Bool)
    {
        let deadline = Date().addingTimeInterval(timeout)
        var screen = try await capture()
        while !condition(screen) {
            if Date() >= deadline { return (screen, false) }
            try await Task.sleep(nanoseconds: 200_000_000)
            screen = try await capture()
        }
        return (screen, true)
    }

    /// The PID of the process the pane runs (the shell that runs the command line).
    public func panePID() async throws -> pid_t? {
        pid_t(try await run(["display-message", "-p", "-t", name, "#{pane_pid}"])
            .trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Kills this session's tmux server (and with it everything running in its panes).
    public func stop() async {
        _ = try? await run(["kill-server"])
    }

    /// Runs one tmux command against this session's server; its output, or an error with it.
    @discardableResult
    public func run(_ arguments: [String]) async throws -> String {
        let child = try ChildProcess("/usr/bin/env", ["LANG=C.UTF-8", "LC_ALL=C.UTF-8", tmux, "-u",
                                                      "-f", "/dev/null", "-L", socket] + arguments)
        let status = await child.wait(timeout: 10)
        guard status == 0 else {
            let outcome = status.map { "status \($0)" } ?? "timed out"
            throw BrokerError(message: "tmux \(arguments.first ?? "") failed (\(outcome)): \(child.text)")
        }
        return child.text
    }

    /// `value` quoted for a POSIX shell.
    public static func shellQuoted(_ value: String) -> String {
        "'" + value.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

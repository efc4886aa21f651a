import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Why editing in `$EDITOR` did not produce a result.
enum EditorError: Error, CustomStringConvertible {
    case tempFile(String)
    case spawn(editor: String, reason: String)
    case failed(editor: String, status: Int32)

    var description: String {
        switch self {
        case .tempFile(let reason): return "cannot write the temporary file for $EDITOR: \(reason)"
        case .spawn(let editor, let reason): return "cannot start the editor `\(editor)`: \(reason) (set $EDITOR)"
        case .failed(let editor, let status): return "editor `\(editor)` exited with status \(status); nothing changed"
        }
    }
}

/// Runs `$EDITOR` (or `vi`) on a temp file in the foreground and returns the edited text. The caller must
/// have handed the terminal back first (`CursesScreen.suspend()`).
struct EditorLauncher {
    var environment: [String: String] = ProcessInfo.processInfo.environment

    /// The editor command line: `$EDITOR` (it may carry arguments, e.g. `emacs -nw`), else `vi`.
    var editor: String {
        let value = environment["EDITOR"]?.trimmingCharacters(in: .whitespaces) ?? ""
        return value.isEmpty ? "vi" : value
    }

    /// Writes `text` to a temp file named after `name`, edits it, and returns the new text — nil when the
    /// file came back unchanged. `track` is told the editor's PID (and nil afterwards); it returns false
    /// when the console is stopping, and the editor is then ended.
    func edit(_ text: String, name: String, track: (pid_t?) -> Bool) throws(EditorError) -> String? {
        let safeName = String(name.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" }.prefix(40))
        let path = NSTemporaryDirectory() + "mqtt-proxy-\(safeName)-\(UUID().uuidString.prefix(8)).json"
        do {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            throw .tempFile("\(path): \(error.localizedDescription)")
        }
        defer { try? FileManager.default.removeItem(atPath: path) }
        let pid = try spawn(path)
        if !track(pid) { kill(pid, SIGTERM) }
        let status = EditorLauncher.waitForExit(pid)
        _ = track(nil)
        guard status == 0 else { throw .failed(editor: editor, status: status) }
        guard let edited = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw .tempFile("\(path) disappeared while editing")
        }
        return edited == text ? nil : edited
    }

    /// Starts `sh -c 'exec <editor> "$1"' mqtt-proxy <path>` on the inherited terminal, with a clean signal mask
    /// and default handlers, and without the proxy's sockets.
    private func spawn(_ path: String) throws(EditorError) -> pid_t {
        let argv = ["/bin/sh", "-c", "exec \(editor) \"$1\"", "mqtt-proxy", path]
        switch CleanSpawn.spawn("/bin/sh", argv: argv) {
        case .success(let pid): return pid
        case .failure(let error): throw .spawn(editor: editor, reason: error.reason)
        }
    }

    /// Waits for `pid`; its exit status, or 128 + the signal that ended it.
    private static func waitForExit(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return -1 }
        }
        return (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
    }
}

import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Starts child processes the way a proxy must: without its sockets (NIO's descriptors lack FD_CLOEXEC, so a
/// child would otherwise hold listeners and connections open) and with a clean signal mask and default
/// handlers (the event-loop threads block signals, and programs such as `mosquitto_sub -W` rely on them).
public enum CleanSpawn {
    /// Spawns `path` with `argv` (argv[0] included); returns the pid, or the errno of the failure.
    public static func spawn(_ path: String, argv: [String],
                             fileActions: UnsafePointer<posix_spawn_file_actions_t>? = nil) -> Result<pid_t, SpawnError>
    {
        markDescriptorsCloseOnExec()
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attr, &empty)
        posix_spawnattr_setsigdefault(&attr, &all)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let cArgs = argv.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, fileActions, &attr, cArgs, environ)
        return rc == 0 ? .success(pid) : .failure(SpawnError(code: rc))
    }

    /// Sets FD_CLOEXEC on every open descriptor above 2.
    public static func markDescriptorsCloseOnExec() {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") else { return }
        for entry in entries {
            guard let fd = Int32(entry), fd > 2 else { continue }
            let flags = fcntl(fd, F_GETFD)
            if flags >= 0 { _ = fcntl(fd, F_SETFD, flags | FD_CLOEXEC) }
        }
    }
}

/// `posix_spawn` failed; `reason` is the system's words for `code`.
public struct SpawnError: Error, Sendable {
    public var code: Int32
    public var reason: String { String(cString: strerror(code)) }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import NIOCore

/// Process facts the idle scenario needs: the open-file limit and another process's resident memory.
public enum ProcessStats {
    /// Raises this process's soft RLIMIT_NOFILE to its hard limit; returns the soft limit now in force.
    @discardableResult
    public static func raiseOpenFileLimit() -> Int {
        var limit = rlimit()
        #if canImport(Glibc)
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        #else
        let resource = RLIMIT_NOFILE
        #endif
        guard getrlimit(resource, &limit) == 0 else { return -1 }
        if limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max
            _ = setrlimit(resource, &limit)
            _ = getrlimit(resource, &limit)
        }
        return Int(clamping: limit.rlim_cur)
    }

    /// VmRSS of process `pid` in KiB, from `/proc/<pid>/status`; nil if unreadable.
    public static func residentKiB(pid: Int32) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        return parseVmRSS(status: text)
    }

    /// The `VmRSS:` value (in kB) of a `/proc/<pid>/status` text.
    public static func parseVmRSS(status: String) -> Int? {
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            return fields.count >= 2 ? Int(fields[1]) : nil
        }
        return nil
    }
}

extension ProcessStats {
    /// User plus system CPU seconds of process `pid`, from `/proc/<pid>/stat`; nil if unreadable.
    public static func cpuSeconds(pid: Int32) -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return nil }
        return parseCPUTicks(stat: text).map { Double($0) / Double(sysconf(Int32(_SC_CLK_TCK))) }
    }

    /// utime + stime (fields 14 and 15, in clock ticks) of a `/proc/<pid>/stat` line.
    ///
    /// The command name (field 2) is in parentheses and may contain spaces, so fields are counted after the
    /// last `)`: there, field 3 (the state) comes first.
    public static func parseCPUTicks(stat: String) -> Int? {
        guard let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Int(fields[11]), let system = Int(fields[12]) else { return nil }
        return user + system
    }
}

/// Measures how many cores a process (the proxy under test) and this process kept busy during a run.
public struct CPUProbe: Sendable {
    private let pid: Int32?
    private let started = NIODeadline.now()
    private let targetBefore: Double?
    private let selfBefore: Double?

    /// Starts measuring; `pid` is the process under test (nil: only this process).
    public init(pid: Int32?) {
        self.pid = pid
        targetBefore = pid.flatMap(ProcessStats.cpuSeconds(pid:))
        selfBefore = ProcessStats.cpuSeconds(pid: getpid())
    }

    /// Adds `target_cpu_cores` and `bench_cpu_cores` (CPU seconds per wall second since `init`) to `result`.
    public func annotate(_ result: inout BenchResult) {
        let wall = Double((NIODeadline.now() - started).nanoseconds) / 1e9
        guard wall > 0 else { return }
        if let pid, let before = targetBefore, let after = ProcessStats.cpuSeconds(pid: pid) {
            result.metrics["target_cpu_cores"] = (after - before) / wall
        }
        if let before = selfBefore, let after = ProcessStats.cpuSeconds(pid: getpid()) {
            result.metrics["bench_cpu_cores"] = (after - before) / wall
        }
    }
}

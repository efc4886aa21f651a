#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import NIOCore

/// The process's file-descriptor limit and the client connections it leaves room for.
///
/// A relayed connection holds two descriptors (client and broker). Started from a shell with the usual soft limit
/// (1024, or less), a proxy that kept it would run out at a few hundred clients and blame the brokers, so the
/// soft limit is raised to the hard one once per process, as HAProxy does, and the default connection limit is
/// sized from the result.
public struct DescriptorBudget: Sendable, Hashable {
    /// The soft limit the process started with.
    public let softBefore: Int
    /// The soft limit now.
    public let soft: Int
    /// The hard limit (the most the soft one may be raised to).
    public let hard: Int

    public init(softBefore: Int, soft: Int, hard: Int) {
        self.softBefore = softBefore
        self.soft = soft
        self.hard = hard
    }

    /// This process's budget, raised on first use.
    public static let process = DescriptorBudget.raise()

    /// Descriptors kept out of the relays' reach: listeners, the admin API, health probes, etcd, logs, and the
    /// client connections answered "over the limit".
    public var reserve: Int { max(32, min(1024, soft / 16)) }

    /// Client connections the budget allows at once: two descriptors per relay, after the reserve.
    public var maxConnections: Int { max(1, (soft - reserve) / 2) }

    /// Raises the soft limit to the hard one (or to the kernel's per-process ceiling when the hard limit is
    /// unlimited).
    static func raise() -> DescriptorBudget {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else {
            return DescriptorBudget(softBefore: 1024, soft: 1024, hard: 1024)
        }
        let before = Int(clamping: limit.rlim_cur)
        var target = limit.rlim_max
        if target == rlim_t.max {
            let ceiling = (try? String(contentsOfFile: "/proc/sys/fs/nr_open", encoding: .utf8))
                .flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 1_048_576
            target = rlim_t(ceiling)
        }
        if target > limit.rlim_cur {
            var raised = limit
            raised.rlim_cur = target
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return DescriptorBudget(softBefore: before, soft: Int(clamping: limit.rlim_cur),
                                hard: limit.rlim_max == rlim_t.max ? Int(clamping: target) : Int(clamping: limit.rlim_max))
    }
}

/// Whether an error is the process or the system running out of file descriptors.
func isDescriptorExhaustion(_ error: Error) -> Bool {
    guard let io = error as? IOError else { return false }
    return io.errnoCode == EMFILE || io.errnoCode == ENFILE
}

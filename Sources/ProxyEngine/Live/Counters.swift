import Atomics
import NIOConcurrencyHelpers
import ProxyControl

/// One atomic counter per disconnect cause.
final class DisconnectCounters: Sendable {
    private let counts: [ManagedAtomic<Int>] = DisconnectCause.allCases.map { _ in ManagedAtomic<Int>(0) }

    func count(_ cause: DisconnectCause) {
        counts[cause.slot].wrappingIncrement(ordering: .relaxed)
    }

    /// The causes seen so far and how often.
    func snapshot() -> [DisconnectCause: Int] {
        var out: [DisconnectCause: Int] = [:]
        for cause in DisconnectCause.allCases {
            let n = counts[cause.slot].load(ordering: .relaxed)
            if n > 0 { out[cause] = n }
        }
        return out
    }
}

/// Hot-path counters of one stream route; updated with atomics, read by snapshots.
public final class RouteCounters: Sendable {
    let active = ManagedAtomic<Int>(0)
    let total = ManagedAtomic<Int>(0)
    let bytesIn = ManagedAtomic<Int>(0)
    let bytesOut = ManagedAtomic<Int>(0)
    let connectFailures = ManagedAtomic<Int>(0)
    let rejected: [ManagedAtomic<Int>] = RejectReason.allCases.map { _ in ManagedAtomic<Int>(0) }
    let disconnects = DisconnectCounters()

    func reject(_ reason: RejectReason) {
        rejected[reason.slot].wrappingIncrement(ordering: .relaxed)
    }

    func rejectedCounts() -> [RejectReason: Int] {
        var out: [RejectReason: Int] = [:]
        for reason in RejectReason.allCases {
            let n = rejected[reason.slot].load(ordering: .relaxed)
            if n > 0 { out[reason] = n }
        }
        return out
    }
}

/// Hot-path counters of one node (a broker `ip:port`), across the routes that use it.
public final class NodeCounters: Sendable {
    let active = ManagedAtomic<Int>(0)
    let total = ManagedAtomic<Int>(0)
    let bytesIn = ManagedAtomic<Int>(0)
    let bytesOut = ManagedAtomic<Int>(0)
    let connectFailures = ManagedAtomic<Int>(0)
    /// Whether the latest connect attempt to the node failed (it is down or refusing right now).
    let lastAttemptFailed = ManagedAtomic<Bool>(false)
    let disconnects = DisconnectCounters()
    /// The broker's CONNACK codes seen, counted.
    private let connackCodes = NIOLockedValueBox([Int: Int]())

    func connack(_ code: UInt8) {
        connackCodes.withLockedValue { $0[Int(code), default: 0] += 1 }
    }

    var connacks: [Int: Int] { connackCodes.withLockedValue { $0 } }
}

/// Byte counters of one relayed connection.
public final class ConnectionCounters: Sendable {
    /// Bytes from the client towards the broker.
    let bytesIn = ManagedAtomic<Int>(0)
    /// Bytes from the broker towards the client.
    let bytesOut = ManagedAtomic<Int>(0)
}

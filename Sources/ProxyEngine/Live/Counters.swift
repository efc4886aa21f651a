import Atomics
import NIOConcurrencyHelpers
import ProxyControl

/// One atomic counter per case of `Key` (rejection reasons, disconnect causes).
final class CaseCounters<Key: CaseIterable & Hashable & Sendable>: Sendable {
    private let keys = Array(Key.allCases)
    private let counts: [ManagedAtomic<Int>]

    init() {
        counts = Key.allCases.map { _ in ManagedAtomic<Int>(0) }
    }

    func count(_ key: Key) {
        guard let slot = keys.firstIndex(of: key) else { return }
        counts[slot].wrappingIncrement(ordering: .relaxed)
    }

    /// The cases seen so far and how often.
    func snapshot() -> [Key: Int] {
        var out: [Key: Int] = [:]
        for (slot, key) in keys.enumerated() {
            let n = counts[slot].load(ordering: .relaxed)
            if n > 0 { out[key] = n }
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
    let rejected = CaseCounters<RejectReason>()
    let disconnects = CaseCounters<DisconnectCause>()
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
    let disconnects = CaseCounters<DisconnectCause>()
    /// The broker's CONNACK codes seen, counted.
    private let accepted = ManagedAtomic<Int>(0)
    private let refusals = NIOLockedValueBox([Int: Int]())

    func connack(_ code: UInt8) {
        if code == 0 {
            accepted.wrappingIncrement(ordering: .relaxed)
        } else {
            refusals.withLockedValue { $0[Int(code), default: 0] += 1 }
        }
    }

    var connacks: [Int: Int] {
        var all = refusals.withLockedValue { $0 }
        let n = accepted.load(ordering: .relaxed)
        if n > 0 { all[0] = n }
        return all
    }
}

/// Byte counters of one relayed connection.
public final class ConnectionCounters: Sendable {
    /// Bytes from the client towards the broker.
    let bytesIn = ManagedAtomic<Int>(0)
    /// Bytes from the broker towards the client.
    let bytesOut = ManagedAtomic<Int>(0)
}

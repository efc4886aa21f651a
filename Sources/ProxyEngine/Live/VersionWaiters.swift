import Atomics
import NIOConcurrencyHelpers

/// Tasks waiting for the registry's version to move (`EngineControl.nextVersion`), woken by every bump.
///
/// The hot path pays one atomic load per bump while nobody waits. A waiter counts itself before it looks at the
/// version, and a bump moves the version before it looks at the count, so one of the two always sees the other
/// and no wake-up is lost.
final class VersionWaiters: Sendable {
    private struct State {
        var nextID = 0
        var waiting: [Int: CheckedContinuation<Void, Never>] = [:]
        /// Waiters whose wait ended (timeout) before they parked: they must not park.
        var expired: Set<Int> = []
    }

    private let state = NIOLockedValueBox(State())
    private let count = ManagedAtomic<Int>(0)

    /// Wakes every waiter; call after the version changed.
    func wake() {
        guard count.load(ordering: .sequentiallyConsistent) > 0 else { return }
        let woken = state.withLockedValue { s -> [CheckedContinuation<Void, Never>] in
            defer { s.waiting = [:] }
            return Array(s.waiting.values)
        }
        count.wrappingDecrement(by: woken.count, ordering: .sequentiallyConsistent)
        for continuation in woken { continuation.resume() }
    }

    /// Returns once `changed()` is true after a wake-up, or after `timeout` seconds.
    func wait(timeout: Double, changed: @escaping @Sendable () -> Bool) async {
        if changed() { return }
        let id = state.withLockedValue { s -> Int in
            s.nextID += 1
            return s.nextID
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [self] in
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    count.wrappingIncrement(ordering: .sequentiallyConsistent)
                    let parked = state.withLockedValue { s -> Bool in
                        guard !changed(), !s.expired.contains(id) else { return false }
                        s.waiting[id] = continuation
                        return true
                    }
                    if !parked {
                        count.wrappingDecrement(ordering: .sequentiallyConsistent)
                        continuation.resume()
                    }
                }
            }
            group.addTask { [self] in
                try? await Task.sleep(nanoseconds: UInt64(max(0, timeout) * 1e9))
                resume(id)
            }
            await group.next()
            group.cancelAll()
            resume(id)
        }
        _ = state.withLockedValue { $0.expired.remove(id) }
    }

    /// Resumes one waiter if it is parked, or keeps it from parking (its timeout passed, or its wait ended).
    private func resume(_ id: Int) {
        let continuation = state.withLockedValue { s -> CheckedContinuation<Void, Never>? in
            guard let parked = s.waiting.removeValue(forKey: id) else {
                s.expired.insert(id)
                return nil
            }
            return parked
        }
        guard let continuation else { return }
        count.wrappingDecrement(ordering: .sequentiallyConsistent)
        continuation.resume()
    }
}

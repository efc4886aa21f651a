import Synchronization

/// A value that becomes known once, while other parts already run: the addresses a listener bound (a port 0 asked
/// for is known only after the bind), read at any time from any thread and awaited by whoever needs it first.
public final class ReadyValue<Value: Sendable>: Sendable {
    private struct State {
        var value: Value?
        var nextID = 0
        var waiting: [Int: CheckedContinuation<Value?, Never>] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    /// The value, or nil while it is not known yet.
    public var current: Value? { state.withLock { $0.value } }

    /// Makes the value known (a second call replaces it) and wakes everyone waiting.
    public func set(_ value: Value) {
        let waiting = state.withLock { s -> [CheckedContinuation<Value?, Never>] in
            s.value = value
            defer { s.waiting = [:] }
            return Array(s.waiting.values)
        }
        for continuation in waiting { continuation.resume(returning: value) }
    }

    /// The value, waiting for it if need be; nil when the waiting task is cancelled first.
    public func value() async -> Value? {
        let id = state.withLock { s -> Int in
            s.nextID += 1
            return s.nextID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Value?, Never>) in
                let known = state.withLock { s -> Value?? in
                    if let value = s.value { return .some(value) }
                    if Task.isCancelled { return .some(nil) }
                    s.waiting[id] = continuation
                    return nil
                }
                if let known { continuation.resume(returning: known) }
            }
        } onCancel: {
            state.withLock { $0.waiting.removeValue(forKey: id) }?.resume(returning: nil)
        }
    }
}

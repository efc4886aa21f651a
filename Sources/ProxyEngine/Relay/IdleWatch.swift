import NIOConcurrencyHelpers
import NIOCore

/// Closes relays that stayed quiet for their idle limit, with one timer per event loop instead of one per relay.
///
/// NIO keeps scheduled tasks in a heap whose cancel is a linear search. With a timer per relay, 10,000 held
/// connections meant every new connection's preread timer and connect timeout were cancelled by scanning
/// 10,000 entries. Here each loop has one sweep task; it runs while the loop has relays, every eighth of the
/// shortest idle limit it has seen (between 10 ms and 1 s), so a relay closes within that step after its limit.
final class IdleWatch {
    private let loop: EventLoop
    private var relays: [RelayState] = []
    private var step: TimeAmount = .seconds(1)
    private var sweepScheduled = false

    static let longestStep = TimeAmount.seconds(1)
    static let shortestStep = TimeAmount.milliseconds(10)

    init(loop: EventLoop) {
        self.loop = loop
    }

    /// Starts watching `relay`; `close` is called (once) when it has been idle for its limit. On the loop.
    func add(_ relay: RelayState, close: @escaping (RelayState) -> Void) {
        loop.preconditionInEventLoop()
        relay.watchIndex = relays.count
        relay.closeIdle = close
        relays.append(relay)
        let wanted = max(Self.shortestStep, min(Self.longestStep, .nanoseconds(relay.idleLimit.nanoseconds / 8)))
        if wanted < step { step = wanted }
        scheduleSweep()
    }

    /// Stops watching `relay` (it ended); a relay not watched is ignored. On the loop.
    func remove(_ relay: RelayState) {
        let index = relay.watchIndex
        guard index >= 0, index < relays.count, relays[index] === relay else { return }
        let last = relays.removeLast()
        if index < relays.count {
            relays[index] = last
            last.watchIndex = index
        }
        relay.watchIndex = -1
        relay.closeIdle = nil
    }

    /// Relays watched on this loop.
    var count: Int { relays.count }

    private func scheduleSweep() {
        guard !sweepScheduled, !relays.isEmpty else { return }
        sweepScheduled = true
        loop.assumeIsolated().scheduleTask(in: step) { [self] in
            sweepScheduled = false
            sweep()
            scheduleSweep()
        }
    }

    private func sweep() {
        let now = NIODeadline.now()
        var idle: [RelayState] = []
        for relay in relays where now - relay.lastActivity >= relay.idleLimit {
            idle.append(relay)
        }
        // Closing may end a relay (and call `remove`) synchronously, so the list is changed only after the scan.
        for relay in idle {
            let close = relay.closeIdle
            remove(relay)
            close?(relay)
        }
    }
}

/// The idle watch of each event loop, made on first use.
final class IdleWatches: Sendable {
    private let watches = NIOLockedValueBox([ObjectIdentifier: NIOLoopBound<IdleWatch>]())

    /// The watch of `loop`; call on that loop.
    func watch(for loop: EventLoop) -> IdleWatch {
        let key = ObjectIdentifier(loop)
        return watches.withLockedValue { map in
            if let bound = map[key] { return bound.value }
            let watch = IdleWatch(loop: loop)
            map[key] = NIOLoopBound(watch, eventLoop: loop)
            return watch
        }
    }
}

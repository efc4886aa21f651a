import NIOConcurrencyHelpers
import NIOCore

/// Closes relays that stayed quiet for their idle limit, with one timer per event loop instead of one per relay.
///
/// NIO keeps scheduled tasks in a heap whose cancel is a linear search. With a timer per relay, 10,000 held
/// connections meant every new connection's preread timer and connect timeout were cancelled by scanning
/// 10,000 entries. Here each loop has one sweep task; it runs while the loop has relays, every eighth of the
/// shortest idle limit among them (between 10 ms and 1 s), so a relay closes within that step after its limit.
final class IdleWatch {
    private let loop: EventLoop
    private var relays: [RelayState] = []
    private var step: TimeAmount = .seconds(1)
    /// The pending sweep and when it runs.
    private var pending: (task: Scheduled<Void>, at: NIODeadline)?

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
        step = min(step, Self.step(for: relay.idleLimit))
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

    /// When the next sweep runs (nil when none is pending).
    var nextSweep: NIODeadline? { pending?.at }

    /// The current interval between sweeps.
    var sweepStep: TimeAmount { step }

    /// Makes sure a sweep runs within `step`: schedules one, or brings the pending one forward when a relay with a
    /// shorter limit arrived (rare: one cancel, instead of one per relay).
    private func scheduleSweep() {
        guard !relays.isEmpty else { return }
        let at = NIODeadline.now() + step
        if let pending {
            guard at < pending.at else { return }
            pending.task.cancel()
        }
        let task = loop.assumeIsolated().scheduleTask(deadline: at) { [self] in
            pending = nil
            sweep()
            scheduleSweep()
        }
        pending = (task, at)
    }

    private static func step(for limit: TimeAmount) -> TimeAmount {
        max(shortestStep, min(longestStep, .nanoseconds(limit.nanoseconds / 8)))
    }

    private func sweep() {
        let now = NIODeadline.now()
        var idle: [RelayState] = []
        var shortest = Self.longestStep
        for relay in relays {
            if now - relay.lastActivity >= relay.idleLimit || relay.halfClosedTooLong(now) {
                idle.append(relay)
            } else {
                shortest = min(shortest, Self.step(for: relay.idleLimit))
            }
        }
        // The step follows the relays still open: a short-limit relay that ended no longer sets the pace.
        step = shortest
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

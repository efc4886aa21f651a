import NIOConcurrencyHelpers
import NIOCore
import ProxyModel

/// APISIX's stream `limit-conn` on one route: concurrent connections counted per key, each released when its
/// connection closes.
final class ConnectionLimiter: Sendable {
    let config: LimitConnConfig
    /// The key's template (`var_combination`).
    let template: VariableTemplate?
    private let counts = NIOLockedValueBox([String: Int]())

    init(config: LimitConnConfig) {
        self.config = config
        template = config.keyType == .combination ? VariableTemplate(config.key) : nil
    }

    enum Outcome: Sendable, Equatable {
        /// Counted in; wait `delay` seconds before connecting (0: at once). `release` must follow.
        case admitted(delay: Double, count: Int)
        /// Over `conn + burst`: not counted.
        case refused(count: Int)
    }

    /// Counts a connection with `key` in, unless that makes too many.
    func acquire(_ key: String) -> Outcome {
        counts.withLockedValue { c in
            let n = c[key, default: 0] + 1
            guard let delay = config.delay(count: n) else { return .refused(count: n) }
            c[key] = n
            return .admitted(delay: delay, count: n)
        }
    }

    func release(_ key: String) {
        counts.withLockedValue { c in
            guard let n = c[key] else { return }
            c[key] = n > 1 ? n - 1 : nil
        }
    }

    /// Connections counted under `key` now.
    func count(_ key: String) -> Int { counts.withLockedValue { $0[key] ?? 0 } }
}

/// `mqtt-proxy.connect_rate`: a bucket of `burst` tokens refilled at `rate` per second; each CONNECT takes one.
final class TokenBucket: Sendable {
    let rate: Double
    let burst: Int
    private let state: NIOLockedValueBox<(tokens: Double, at: NIODeadline)>

    init(rate: Double, burst: Int) {
        self.rate = rate
        self.burst = burst
        state = NIOLockedValueBox((Double(burst), .now()))
    }

    /// Takes a token if there is one.
    func take(now: NIODeadline = .now()) -> Bool {
        state.withLockedValue { s in
            let elapsed = Double((now - s.at).nanoseconds) / 1e9
            s.tokens = min(Double(burst), s.tokens + max(0, elapsed) * rate)
            s.at = now
            guard s.tokens >= 1 else { return false }
            s.tokens -= 1
            return true
        }
    }
}

/// The limiters of one route. Kept across route-table rebuilds while the route's settings stay the same, so
/// counts and tokens are not reset by unrelated edits.
final class RouteLimits: Sendable {
    let connections: ConnectionLimiter?
    let connectRate: TokenBucket?

    init(limitConn: LimitConnConfig?, connectRate rate: ConnectRate?) {
        connections = limitConn.map(ConnectionLimiter.init)
        connectRate = rate.map { TokenBucket(rate: $0.rate, burst: $0.burst) }
    }
}

/// Hands out each route's `RouteLimits`, reusing them while the settings are unchanged.
final class RouteLimitsCache: Sendable {
    private struct Entry {
        var limitConn: LimitConnConfig?
        var connectRate: ConnectRate?
        var limits: RouteLimits
    }

    private let entries = NIOLockedValueBox([String: Entry]())

    /// The limits of `route`; nil when it has none.
    func limits(for route: StreamRoute) -> RouteLimits? {
        let rate = route.mqttProxy?.connectRate
        guard route.limitConn != nil || rate != nil else { return nil }
        return entries.withLockedValue { e in
            if let hit = e[route.id], hit.limitConn == route.limitConn, hit.connectRate == rate { return hit.limits }
            let made = RouteLimits(limitConn: route.limitConn, connectRate: rate)
            e[route.id] = Entry(limitConn: route.limitConn, connectRate: rate, limits: made)
            return made
        }
    }

    /// Forgets routes that are gone.
    func keep(only ids: Set<String>) {
        entries.withLockedValue { e in e = e.filter { ids.contains($0.key) } }
    }
}

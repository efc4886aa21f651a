import ProxyModel

/// What a probe or a real connection said about a node.
enum HealthOutcome: Sendable, Equatable {
    case success
    /// Connect refused or reset.
    case tcpFailure(String)
    /// No connect (or for `mqtt`, no CONNACK) within the time limit.
    case timeout(String)
    /// The broker answered the CONNECT with a failure code.
    case mqttFailure(code: UInt8, String)

    var label: String {
        switch self {
        case .success: "success"
        case .tcpFailure: "tcp_failure"
        case .timeout: "timeout"
        case .mqttFailure: "mqtt_failure"
        }
    }

    var reason: String? {
        switch self {
        case .success: nil
        case .tcpFailure(let r), .timeout(let r), .mqttFailure(_, let r): r
        }
    }
}

/// The limits a report is counted against (active and passive share the counters, as in lua-resty-healthcheck).
struct HealthLimits: Sendable, Hashable {
    var successes: Int
    var tcpFailures: Int
    var timeouts: Int
    var mqttFailures: Int

    init(active: ActiveHealthCheck) {
        successes = active.healthy.successes
        tcpFailures = active.unhealthy.tcpFailures
        timeouts = active.unhealthy.timeouts
        mqttFailures = active.unhealthy.mqttFailures
    }

    init(passive: PassiveHealthCheck) {
        successes = passive.successes
        tcpFailures = passive.tcpFailures
        timeouts = passive.timeouts
        mqttFailures = passive.mqttFailures
    }
}

/// One node's health under one check: APISIX's four states and four counters.
///
/// A success clears the failure counters; a failure clears only the success counter; a counter reaching its
/// limit moves the node to healthy or unhealthy; a limit of 0 ignores that kind of report. A node starts healthy.
struct TargetHealth: Sendable, Equatable {
    enum State: String, Sendable {
        case healthy
        case mostlyHealthy = "mostly_healthy"
        case mostlyUnhealthy = "mostly_unhealthy"
        case unhealthy

        /// Whether the node takes new clients in this state.
        var isUp: Bool { self == .healthy || self == .mostlyHealthy }
    }

    private(set) var state = State.healthy
    private(set) var successes = 0
    private(set) var tcpFailures = 0
    private(set) var timeouts = 0
    private(set) var mqttFailures = 0
    /// The last failure that counted, kept while the node is not healthy.
    private(set) var reason: String?

    /// Counts `outcome`; returns true when the node moved between up and down.
    mutating func report(_ outcome: HealthOutcome, limits: HealthLimits) -> Bool {
        let wasUp = state.isUp
        switch outcome {
        case .success:
            guard limits.successes > 0, state != .healthy else { return false }
            successes += 1
            tcpFailures = 0
            timeouts = 0
            mqttFailures = 0
            if successes >= limits.successes {
                state = .healthy
                reason = nil
            } else if state == .unhealthy {
                state = .mostlyUnhealthy
            }
        case .tcpFailure, .timeout, .mqttFailure:
            let limit: Int
            switch outcome {
            case .tcpFailure: limit = limits.tcpFailures
            case .timeout: limit = limits.timeouts
            default: limit = limits.mqttFailures
            }
            guard limit > 0, state != .unhealthy else { return false }
            successes = 0
            let count: Int
            switch outcome {
            case .tcpFailure:
                tcpFailures += 1
                count = tcpFailures
            case .timeout:
                timeouts += 1
                count = timeouts
            default:
                mqttFailures += 1
                count = mqttFailures
            }
            reason = outcome.reason
            if count >= limit {
                state = .unhealthy
            } else if state == .healthy {
                state = .mostlyHealthy
            }
        }
        return wasUp != state.isUp
    }

    /// The counters, for status pages.
    var counters: (successes: Int, tcpFailures: Int, timeouts: Int, mqttFailures: Int) {
        (successes, tcpFailures, timeouts, mqttFailures)
    }
}

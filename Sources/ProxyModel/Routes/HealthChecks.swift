/// An upstream's `checks` (APISIX's health_checker schema), plus our MQTT probe: active probes that find a broker
/// which accepts TCP but never answers, and passive counting from real connections.
public struct HealthChecks: Sendable, Hashable {
    /// Required, as in APISIX.
    public var active: ActiveHealthCheck
    public var passive: PassiveHealthCheck?

    public init(active: ActiveHealthCheck, passive: PassiveHealthCheck? = nil) {
        self.active = active
        self.passive = passive
    }
}

/// How a node is probed. APISIX's `http`/`https` are accepted for compatibility and probed as `tcp`: an MQTT
/// broker does not answer HTTP.
public enum HealthCheckType: String, Sendable, Hashable, CaseIterable {
    case tcp, mqtt, http, https

    /// What the probe actually does.
    public var probe: HealthCheckType { self == .mqtt ? .mqtt : .tcp }
}

/// `checks.active`: probes on a timer, at `healthy.interval` while a node is healthy and `unhealthy.interval` while
/// it is not.
public struct ActiveHealthCheck: Sendable, Hashable {
    public var type: HealthCheckType = .tcp
    /// Seconds a probe may take (connect, and for `mqtt` the CONNACK).
    public var timeout: Double = 1
    /// Probes in flight at once for this check.
    public var concurrency = 10
    /// Probe this port instead of the node's.
    public var port: Int?
    public var healthy = Healthy()
    public var unhealthy = Unhealthy()
    /// The CONNECT of `mqtt` probes.
    public var mqtt = MQTTProbe()

    public struct Healthy: Sendable, Hashable {
        /// Seconds between probes of a healthy node.
        public var interval: Double = 1
        /// Consecutive successes that make a node healthy again.
        public var successes = 2
    }

    public struct Unhealthy: Sendable, Hashable {
        /// Seconds between probes of an unhealthy node.
        public var interval: Double = 1
        /// Consecutive refused connects that make a node unhealthy.
        public var tcpFailures = 2
        /// Consecutive timeouts (no connect, or for `mqtt` no CONNACK, within `timeout`).
        public var timeouts = 3
        /// Consecutive refused CONNACKs (`mqtt`; ours).
        public var mqttFailures = 2
    }

    /// The CONNECT an `mqtt` probe sends (clean start, then a DISCONNECT after the CONNACK).
    public struct MQTTProbe: Sendable, Hashable {
        /// nil: `mqtt-proxy-health-<instance>`.
        public var clientID: String?
        public var username: String?
        public var password: String?
        /// 4 (MQTT 3.1.1) or 5.
        public var protocolLevel = 4
    }

    public init() {}
}

/// `checks.passive`: what real connections tell. Limits of 0 turn that counter off, as in APISIX.
public struct PassiveHealthCheck: Sendable, Hashable {
    public var type: HealthCheckType = .tcp
    /// Consecutive successful connections that count a node healthy again (APISIX's stream proxy never counts
    /// successes; ours does: a connect that succeeds, and for `mqtt` a CONNACK 0x00 from the broker).
    public var successes = 5
    /// Consecutive refused connects.
    public var tcpFailures = 2
    /// Consecutive connect timeouts.
    public var timeouts = 7
    /// Consecutive refused CONNACKs seen on relayed connections (`mqtt`; ours).
    public var mqttFailures = 5

    public init() {}
}

extension HealthChecks {
    /// Decodes and validates `checks`; defaults as APISIX's schema, filled in even where an object is left out
    /// (APISIX then probes at interval 0, i.e. never; a `checks.active` is meant to probe).
    public init(json: JSONValue, prefix: String) throws(ValidationError) {
        var r = try ObjectReader(json, prefix: prefix, what: "checks")
        guard let activeValue = r.value("active") else {
            throw r.error("active", "invalid checks: object matches none of the required: [\"active\"] or "
                          + "[\"active\",\"passive\"]")
        }
        active = try ActiveHealthCheck(json: activeValue, prefix: r.path("active"))
        if let p = r.value("passive") { passive = try PassiveHealthCheck(json: p, prefix: r.path("passive")) }
        try r.rejectUnknown()
    }
}

extension ActiveHealthCheck {
    init(json: JSONValue, prefix: String) throws(ValidationError) {
        var r = try ObjectReader(json, prefix: prefix, what: "checks.active")
        if let t = try r.string("type") { type = try HealthCheckType.parse(t, r: r) }
        timeout = try r.number("timeout", minimum: 0, exclusive: true) ?? timeout
        concurrency = try r.integer("concurrency", range: 1...1000) ?? concurrency
        port = try r.integer("port", range: 1...65535)
        _ = try r.string("host")
        _ = try r.string("http_method")
        _ = try r.string("http_path")
        _ = try r.string("http_req_body")
        _ = try r.bool("https_verify_certificate")
        _ = r.value("req_headers")
        if let h = r.value("healthy") {
            var hr = try ObjectReader(h, prefix: r.path("healthy"), what: "checks.active.healthy")
            healthy.interval = try hr.number("interval", minimum: 1) ?? healthy.interval
            healthy.successes = try hr.integer("successes", range: 1...254) ?? healthy.successes
            _ = hr.value("http_statuses")
            try hr.rejectUnknown()
        }
        if let u = r.value("unhealthy") {
            var ur = try ObjectReader(u, prefix: r.path("unhealthy"), what: "checks.active.unhealthy")
            unhealthy.interval = try ur.number("interval", minimum: 1) ?? unhealthy.interval
            unhealthy.tcpFailures = try ur.integer("tcp_failures", range: 1...254) ?? unhealthy.tcpFailures
            unhealthy.timeouts = try ur.integer("timeouts", range: 1...254) ?? unhealthy.timeouts
            unhealthy.mqttFailures = try ur.integer("mqtt_failures", range: 1...254) ?? unhealthy.mqttFailures
            _ = try ur.integer("http_failures", range: 1...254)
            _ = ur.value("http_statuses")
            try ur.rejectUnknown()
        }
        if let m = r.value("mqtt") {
            var mr = try ObjectReader(m, prefix: r.path("mqtt"), what: "checks.active.mqtt")
            mqtt.clientID = try mr.string("client_id", minLength: 1, maxLength: 65535)
            mqtt.username = try mr.string("username", maxLength: 65535)
            mqtt.password = try mr.string("password", maxLength: 65535)
            if let level = try mr.integer("protocol_level") {
                guard level == 4 || level == 5 else {
                    throw mr.error("protocol_level", "invalid protocol_level: \(level) (4 for MQTT 3.1.1, 5 for MQTT 5)")
                }
                mqtt.protocolLevel = level
            }
            try mr.rejectUnknown()
        }
        try r.rejectUnknown()
    }
}

extension PassiveHealthCheck {
    init(json: JSONValue, prefix: String) throws(ValidationError) {
        var r = try ObjectReader(json, prefix: prefix, what: "checks.passive")
        if let t = try r.string("type") { type = try HealthCheckType.parse(t, r: r) }
        if let h = r.value("healthy") {
            var hr = try ObjectReader(h, prefix: r.path("healthy"), what: "checks.passive.healthy")
            successes = try hr.integer("successes", range: 0...254) ?? successes
            _ = hr.value("http_statuses")
            try hr.rejectUnknown()
        }
        if let u = r.value("unhealthy") {
            var ur = try ObjectReader(u, prefix: r.path("unhealthy"), what: "checks.passive.unhealthy")
            tcpFailures = try ur.integer("tcp_failures", range: 0...254) ?? tcpFailures
            timeouts = try ur.integer("timeouts", range: 0...254) ?? timeouts
            mqttFailures = try ur.integer("mqtt_failures", range: 0...254) ?? mqttFailures
            _ = try ur.integer("http_failures", range: 0...254)
            _ = ur.value("http_statuses")
            try ur.rejectUnknown()
        }
        try r.rejectUnknown()
    }
}

extension HealthCheckType {
    static func parse(_ text: String, r: ObjectReader) throws(ValidationError) -> HealthCheckType {
        guard let type = HealthCheckType(rawValue: text) else {
            throw r.error("type", "invalid type: \(text) (supported: tcp, mqtt; http and https are probed as tcp)")
        }
        return type
    }
}

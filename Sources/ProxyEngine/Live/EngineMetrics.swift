import CoreMetrics
import NIOConcurrencyHelpers
import ProxyControl

/// The engine's swift-metrics instruments (exported by the admin API as Prometheus `/metrics`).
///
/// Handles are created once per route/node pair and cached, so the hot path only increments.
public final class EngineMetrics: Sendable {
    /// Metrics of the connections one route sends to one node.
    final class Pair: Sendable {
        let total: Counter
        let active: Meter
        let bytesIn: Counter
        let bytesOut: Counter
        let connectFailures: Counter
        /// `mqtt_proxy_disconnects_total{route,node,cause}`.
        let disconnects: [DisconnectCause: Counter]
        /// `mqtt_proxy_broker_connack_total{node,code="0x00"}`, the common case, kept at hand (other codes go
        /// through `brokerConnack`).
        let connackAccepted: Counter

        init(route: String, node: String, factory: any MetricsFactory) {
            let dims = [("route", route), ("node", node)]
            total = Counter(label: "mqtt_proxy_connections_total", dimensions: dims, factory: factory)
            active = Meter(label: "mqtt_proxy_connections_active", dimensions: dims, factory: factory)
            bytesIn = Counter(label: "mqtt_proxy_bytes_total", dimensions: dims + [("direction", "in")],
                              factory: factory)
            bytesOut = Counter(label: "mqtt_proxy_bytes_total", dimensions: dims + [("direction", "out")],
                               factory: factory)
            connectFailures = Counter(label: "mqtt_proxy_upstream_connect_failures_total", dimensions: dims,
                                      factory: factory)
            disconnects = Dictionary(uniqueKeysWithValues: DisconnectCause.allCases.map { cause in
                (cause, Counter(label: "mqtt_proxy_disconnects_total", dimensions: dims + [("cause", cause.rawValue)],
                                factory: factory))
            })
            connackAccepted = Counter(label: "mqtt_proxy_broker_connack_total",
                                      dimensions: [("node", node), ("code", ConnackLabel.text(0))], factory: factory)
        }
    }

    private let factory: any MetricsFactory
    /// Two strings as a dictionary key (looked up per connection: no joined string is built for it).
    private struct Key: Hashable {
        let first: String
        let second: String
    }

    private let pairs = NIOLockedValueBox([Key: Pair]())
    private let rejections = NIOLockedValueBox([String: Counter]())
    private let timers = NIOLockedValueBox([Key: Timer]())
    private let handshakes = NIOLockedValueBox([String: Counter]())
    private let gauges = NIOLockedValueBox([String: Gauge]())
    private let probes = NIOLockedValueBox([Key: Counter]())

    /// Uses `factory` (a Prometheus factory in production; the global one by default).
    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        self.factory = factory
        handshakeTimer = Timer(label: "mqtt_proxy_tls_handshake_seconds", factory: factory)
    }

    /// Accept to finished TLS handshake on TLS listeners.
    private let handshakeTimer: Timer

    func pair(route: String, node: String) -> Pair {
        let key = Key(first: route, second: node)
        return pairs.withLockedValue { p in
            if let hit = p[key] { return hit }
            let made = Pair(route: route, node: node, factory: factory)
            p[key] = made
            return made
        }
    }

    func rejected(route: String?, reason: RejectReason) {
        let key = "\(route ?? "")\u{0}\(reason.rawValue)"
        let counter = rejections.withLockedValue { r in
            if let hit = r[key] { return hit }
            let made = Counter(label: "mqtt_proxy_rejections_total",
                               dimensions: [("route", route ?? ""), ("reason", reason.rawValue)], factory: factory)
            r[key] = made
            return made
        }
        counter.increment()
    }

    private func timer(_ label: String, route: String) -> Timer {
        let key = Key(first: label, second: route)
        return timers.withLockedValue { t in
            if let hit = t[key] { return hit }
            let made = Timer(label: label, dimensions: [("route", route)], factory: factory)
            t[key] = made
            return made
        }
    }

    /// Time from accept to a whole CONNECT.
    func recordPreread(route: String, nanoseconds: Int64) {
        timer("mqtt_proxy_connect_preread_seconds", route: route).recordNanoseconds(nanoseconds)
    }

    /// A TLS handshake on a listener finished, with this version, for this ssl object.
    func recordTLSHandshake(version: String, sslID: String?, nanoseconds: Int64) {
        let key = "\(version)\u{0}\(sslID ?? "")"
        let counter = handshakes.withLockedValue { h in
            if let hit = h[key] { return hit }
            let made = Counter(label: "mqtt_proxy_tls_handshakes_total",
                               dimensions: [("version", version), ("ssl", sslID ?? "")], factory: factory)
            h[key] = made
            return made
        }
        counter.increment()
        handshakeTimer.recordNanoseconds(nanoseconds)
    }

    /// 1 while the node takes new clients, 0 while a health check counts it down.
    func nodeHealthy(node: String, _ healthy: Bool) {
        let gauge = gauges.withLockedValue { g in
            if let hit = g[node] { return hit }
            let made = Gauge(label: "mqtt_proxy_node_healthy", dimensions: [("node", node)], factory: factory)
            g[node] = made
            return made
        }
        gauge.record(healthy ? 1 : 0)
    }

    /// 1 while the store's source (etcd) answers, 0 while it does not.
    func configSourceUp(provider: String, _ up: Bool) {
        let gauge = gauges.withLockedValue { g in
            let key = "\u{0}config \(provider)"
            if let hit = g[key] { return hit }
            let made = Gauge(label: "mqtt_proxy_config_source_up", dimensions: [("provider", provider)], factory: factory)
            g[key] = made
            return made
        }
        gauge.record(up ? 1 : 0)
    }

    /// One active probe's result.
    func healthCheck(node: String, type: String, result: String) {
        let key = Key(first: node, second: "\(type)\u{0}\(result)")
        let counter = probes.withLockedValue { p in
            if let hit = p[key] { return hit }
            let made = Counter(label: "mqtt_proxy_health_checks_total",
                               dimensions: [("node", node), ("type", type), ("result", result)], factory: factory)
            p[key] = made
            return made
        }
        counter.increment()
    }

    /// A broker's CONNACK passed with `code`.
    func brokerConnack(node: String, code: UInt8) {
        let key = Key(first: node, second: "\u{0}connack \(code)")
        let counter = probes.withLockedValue { p in
            if let hit = p[key] { return hit }
            let made = Counter(label: "mqtt_proxy_broker_connack_total",
                               dimensions: [("node", node), ("code", ConnackLabel.text(Int(code)))], factory: factory)
            p[key] = made
            return made
        }
        counter.increment()
    }

    /// Time a successful upstream connect took.
    func recordUpstreamConnect(route: String, nanoseconds: Int64) {
        timer("mqtt_proxy_upstream_connect_seconds", route: route).recordNanoseconds(nanoseconds)
    }
}

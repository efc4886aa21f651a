import Foundation
import LoadBalancing
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ProxyControl
import ProxyModel

/// Broker health and drains for the whole engine: the health targets of the live routes, their active probes (on
/// a thread of their own, off the relays' event loops), passive reports from real connections, and which nodes
/// each route must leave out of its picks.
final class HealthMonitor: Sendable {
    private struct State {
        var targets: [HealthTarget.Key: HealthTarget] = [:]
        var routes: [RouteNodeStatus] = []
        var drains: [String: DrainInfo] = [:]
        var ticker: RepeatedTask?
        /// One per drained node that moves its clients off at a rate.
        var evictors: [String: RepeatedTask] = [:]
        /// Probes in flight per check.
        var inFlight: [HealthChecks: Int] = [:]
    }

    private let state = NIOLockedValueBox(State())
    let registry: ConnectionRegistry
    let logger: Logger
    let probeClientID: String
    /// The probes' own thread.
    let loop: EventLoop
    let prober: HealthProber

    init(registry: ConnectionRegistry, logger: Logger, instance: String, loop: EventLoop) {
        self.registry = registry
        self.logger = logger
        self.loop = loop
        probeClientID = "mqtt-proxy-health-\(instance)"
        prober = HealthProber(loop: loop)
    }

    // MARK: - Routes

    /// The targets of one route's nodes, made or reused (called while a table is compiled).
    func status(for upstream: Upstream, nodes: [BalancerNode], owner: String) -> RouteNodeStatus {
        var targets: [HealthTarget?] = Array(repeating: nil, count: nodes.count)
        if let checks = upstream.checks, nodes.count > 1 {
            state.withLockedValue { s in
                for (index, node) in nodes.enumerated() {
                    let key = HealthTarget.Key(address: node.address, checks: checks,
                                               proxyProtocol: upstream.proxyProtocol)
                    if let existing = s.targets[key] {
                        targets[index] = existing
                    } else {
                        let made = HealthTarget(key: key, host: node.host, port: node.port)
                        s.targets[key] = made
                        targets[index] = made
                    }
                }
            }
        }
        return RouteNodeStatus(targets: targets, addresses: nodes.map(\.address), weights: nodes.map(\.weight),
                               owner: owner)
    }

    /// Makes `routes` the live ones: targets no route uses any more stop being probed, exclusions are set.
    func install(_ routes: [RouteNodeStatus]) {
        let drains = state.withLockedValue { s -> Set<String> in
            s.routes = routes
            let live = Set(routes.flatMap { $0.targets.compactMap { $0?.key } })
            s.targets = s.targets.filter { live.contains($0.key) }
            return Set(s.drains.keys)
        }
        for route in routes { route.update(draining: drains) }
        startTicking()
    }

    /// Recomputes every route's excluded nodes (after a health change or a drain).
    func refreshExclusions() {
        let (routes, drains) = state.withLockedValue { ($0.routes, Set($0.drains.keys)) }
        for route in routes { route.update(draining: drains) }
    }

    // MARK: - Reports

    /// A real connection's outcome (passive check).
    func passive(_ outcome: HealthOutcome, target: HealthTarget) {
        if target.report(outcome, active: false) { changed(target, outcome: outcome, how: "passive") }
    }

    /// A probe's outcome (active check).
    func active(_ outcome: HealthOutcome, target: HealthTarget) {
        registry.metrics.healthCheck(node: target.key.address, type: target.key.checks.active.type.probe.rawValue,
                                     result: outcome.label)
        if target.report(outcome, active: true) { changed(target, outcome: outcome, how: "probe") }
    }

    private func changed(_ target: HealthTarget, outcome: HealthOutcome, how: String) {
        let up = target.isUp
        let node = target.key.address
        let message = up ? "node healthy again (\(how))" : "node unhealthy: \(outcome.reason ?? "?") (\(how))"
        if up { logger.notice("\(node): \(message)") } else { logger.warning("\(node): \(message)") }
        registry.record(.health, node: node, message: message)
        registry.metrics.nodeHealthy(node: node, up && isUpEverywhere(node))
        refreshExclusions()
    }

    private func isUpEverywhere(_ node: String) -> Bool {
        state.withLockedValue { s in s.targets.values.allSatisfy { $0.key.address != node || $0.isUp } }
    }

    // MARK: - Probing

    private func startTicking() {
        state.withLockedValue { s in
            guard s.ticker == nil else { return }
            s.ticker = loop.scheduleRepeatedTask(initialDelay: .milliseconds(100), delay: .milliseconds(100)) {
                [self] _ in tick()
            }
        }
    }

    /// Starts the probes that are due, within each check's concurrency.
    private func tick() {
        let now = NIODeadline.now()
        let due: [HealthTarget] = state.withLockedValue { s in
            var out: [HealthTarget] = []
            for target in s.targets.values where target.used.load(ordering: .relaxed) {
                let checks = target.key.checks
                guard s.inFlight[checks, default: 0] < checks.active.concurrency, target.claimProbe(now: now)
                else { continue }
                s.inFlight[checks, default: 0] += 1
                out.append(target)
            }
            return out
        }
        for target in due {
            prober.probe(target, clientID: probeClientID).whenComplete { [self] result in
                let outcome = (try? result.get()) ?? .tcpFailure("probe failed")
                state.withLockedValue { $0.inFlight[target.key.checks, default: 1] -= 1 }
                active(outcome, target: target)
                target.probeFinished()
            }
        }
    }

    /// Stops probing and evicting (engine shutdown).
    func stop() {
        state.withLockedValue { s in
            s.ticker?.cancel()
            s.ticker = nil
            for evictor in s.evictors.values { evictor.cancel() }
            s.evictors = [:]
        }
    }

    // MARK: - Drains

    /// Starts (or changes) the drain of `node`; false when no live route lists it. With a rate, its clients are
    /// moved off one at a time, evenly spaced.
    func startDrain(_ node: String, _ drain: DrainInfo) -> Bool {
        let known = state.withLockedValue { s -> Bool in
            guard s.routes.contains(where: { $0.addresses.contains(node) }) else { return false }
            var drain = drain
            drain.evicted = s.drains[node]?.evicted ?? 0
            s.drains[node] = drain
            s.evictors.removeValue(forKey: node)?.cancel()
            if let rate = drain.evictPerSecond {
                let every = TimeAmount.nanoseconds(max(1_000, Int64(1e9 / rate)))
                let ending = RelayEnding(cause: .evicted, serverReference: drain.serverReference)
                s.evictors[node] = loop.scheduleRepeatedTask(initialDelay: .zero, delay: every) { [self] _ in
                    evictOne(node, ending)
                }
            }
            return true
        }
        if known { refreshExclusions() }
        return known
    }

    /// Moves the oldest client of `node` not yet leaving.
    private func evictOne(_ node: String, _ ending: RelayEnding) {
        for live in registry.liveConnections(onNode: node) where live.end(ending) {
            countEviction(node)
            return
        }
    }

    /// Ends the drain of `node`; false when it was not drained.
    func stopDrain(_ node: String) -> Bool {
        let was = state.withLockedValue { s -> Bool in
            s.evictors.removeValue(forKey: node)?.cancel()
            return s.drains.removeValue(forKey: node) != nil
        }
        if was { refreshExclusions() }
        return was
    }

    /// The drain of `node`, if any.
    func drain(of node: String) -> DrainInfo? { state.withLockedValue { $0.drains[node] } }

    /// Counts one client moved off a drained node.
    func countEviction(_ node: String) {
        state.withLockedValue { s in s.drains[node]?.evicted += 1 }
    }

    // MARK: - Status

    /// Every node of the live routes, with its health, drain and relays.
    func nodes(active: [String: Int]) -> [NodeHealth] {
        let (routes, drains) = state.withLockedValue { ($0.routes, $0.drains) }
        var byNode: [String: NodeHealth] = [:]
        var order: [String] = []
        for route in routes {
            for (index, address) in route.addresses.enumerated() {
                var entry = byNode[address] ?? {
                    order.append(address)
                    return NodeHealth(node: address, checked: false, healthy: true, state: "unchecked",
                                      drain: drains[address], active: active[address] ?? 0)
                }()
                if !entry.upstreams.contains(route.owner) { entry.upstreams.append(route.owner) }
                if let target = route.targets[index] {
                    let status = target.current
                    let wasChecked = entry.checked
                    entry.checked = true
                    entry.checkType = target.key.checks.active.type.probe.rawValue
                    // The worst of the node's checks shows.
                    if !wasChecked || (entry.healthy && !status.health.state.isUp) {
                        entry.healthy = status.health.state.isUp
                        entry.state = target.used.load(ordering: .relaxed) ? status.health.state.rawValue : "not_used_yet"
                        entry.reason = status.health.reason
                        entry.since = status.since
                    }
                }
                byNode[address] = entry
            }
        }
        return order.compactMap { byNode[$0] }
    }
}

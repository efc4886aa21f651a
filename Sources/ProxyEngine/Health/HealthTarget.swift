import Atomics
import Foundation
import LoadBalancing
import NIOConcurrencyHelpers
import NIOCore
import ProxyModel

/// One node under one health check: probed once however many upstreams list it with that check.
final class HealthTarget: Sendable {
    /// What makes two targets the same: the node and the check.
    struct Key: Hashable, Sendable {
        var address: String
        var checks: HealthChecks
        /// The PROXY header the upstream's brokers expect; probes send one too.
        var proxyProtocol: ProxyProtocolVersion? = nil
    }

    struct Status: Sendable {
        var health = TargetHealth()
        /// Unix time of the last move between up and down (or of the target's creation).
        var since = Date().timeIntervalSince1970
        /// When the next active probe is due.
        var nextProbe = NIODeadline.now()
        var probing = false
    }

    let key: Key
    /// Where active probes go: the node, or `checks.active.port` on its address.
    let probeAddress: SocketAddress?
    let activeLimits: HealthLimits
    let passiveLimits: HealthLimits?
    /// Set once an upstream listing the target has picked a node (probes start then, as in APISIX).
    let used = ManagedAtomic<Bool>(false)
    private let status = NIOLockedValueBox(Status())

    init(key: Key, host: String, port: Int) {
        self.key = key
        probeAddress = try? SocketAddress(ipAddress: host, port: key.checks.active.port ?? port)
        activeLimits = HealthLimits(active: key.checks.active)
        passiveLimits = key.checks.passive.map(HealthLimits.init(passive:))
    }

    var current: Status { status.withLockedValue { $0 } }

    /// Whether the node takes new clients under this check.
    var isUp: Bool { status.withLockedValue { $0.health.state.isUp } }

    /// Counts an outcome against the active or the passive limits; true when the node moved between up and down.
    /// A passive report without `checks.passive` is ignored.
    func report(_ outcome: HealthOutcome, active: Bool) -> Bool {
        guard let limits = active ? activeLimits : passiveLimits else { return false }
        return status.withLockedValue { s in
            let changed = s.health.report(outcome, limits: limits)
            if changed { s.since = Date().timeIntervalSince1970 }
            return changed
        }
    }

    /// Claims the next probe if it is due; false when one is running or not due.
    func claimProbe(now: NIODeadline) -> Bool {
        status.withLockedValue { s in
            guard !s.probing, now >= s.nextProbe else { return false }
            s.probing = true
            return true
        }
    }

    /// The probe ended; the next is due after the interval of the state the node is in now.
    func probeFinished() {
        let check = key.checks.active
        status.withLockedValue { s in
            s.probing = false
            let interval = s.health.state == .healthy ? check.healthy.interval : check.unhealthy.interval
            s.nextProbe = .now() + .nanoseconds(Int64(interval * 1e9))
        }
    }

    /// Schedules the first probe one interval after first use.
    func markUsed() {
        guard !used.load(ordering: .relaxed) else { return }
        if used.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged {
            let interval = key.checks.active.healthy.interval
            status.withLockedValue { $0.nextProbe = .now() + .nanoseconds(Int64(interval * 1e9)) }
        }
    }
}

/// The health and drain view of one compiled route: which of its nodes new clients must not be sent to now.
///
/// The monitor writes the set once per change (health flip, drain start or end); each connection reads it with
/// one atomic load while no node is excluded.
final class RouteNodeStatus: Sendable {
    /// Per node, in the balancer's order: its target under the route's checks (nil without checks, or for an
    /// upstream with one node, which is used whatever its health).
    let targets: [HealthTarget?]
    let addresses: [String]
    /// Nodes that can take traffic (weight > 0): excluding them all excludes none.
    let pickable: NodeIndexSet
    /// Where the route's upstream is listed, for status pages.
    let owner: String
    private let anyExcluded = ManagedAtomic<Bool>(false)
    private let excludedSet = NIOLockedValueBox(NodeIndexSet())
    private let used = ManagedAtomic<Bool>(false)

    init(targets: [HealthTarget?], addresses: [String], weights: [Int], owner: String) {
        self.targets = targets
        self.addresses = addresses
        self.owner = owner
        pickable = NodeIndexSet(weights.indices.filter { weights[$0] > 0 })
    }

    /// The nodes to leave out of the next pick; nil when none (the common case: one atomic load).
    func excluded() -> NodeIndexSet? {
        guard anyExcluded.load(ordering: .acquiring) else { return nil }
        return excludedSet.withLockedValue { $0 }
    }

    /// Called by the front handler when the route picks a node: the first use starts its probes.
    func markUsed() {
        guard !used.load(ordering: .relaxed) else { return }
        used.store(true, ordering: .relaxed)
        for target in targets { target?.markUsed() }
    }

    /// Sets the excluded nodes from health and drains; excluding every pickable node excludes none (APISIX: when
    /// no node is healthy, all are used).
    func update(draining: Set<String>) {
        var excluded = NodeIndexSet()
        for index in addresses.indices {
            if draining.contains(addresses[index]) || targets[index].map({ !$0.isUp }) == true {
                excluded.insert(index)
            }
        }
        if pickable.isSubset(of: excluded) { excluded = NodeIndexSet() }
        excludedSet.withLockedValue { $0 = excluded }
        anyExcluded.store(!excluded.isEmpty, ordering: .releasing)
    }
}

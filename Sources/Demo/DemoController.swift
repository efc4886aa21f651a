import DemoBroker
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import ProxyControl
import ProxyModel
import RouteStore

/// Runs a demo: installs the demo route, connects the fleet, carries out kills, revives and added brokers,
/// reconnects clients a change left on the wrong node, and records what moved at each change.
public final class DemoController: Sendable {
    public let cluster: DemoCluster
    public let fleet: ClientFleet
    public let timeline: DemoTimeline
    public let settings: DemoSettings
    let engine: any EngineControl
    let store: any RouteStore
    let logger: Logger
    private let lastNodes = NIOLockedValueBox([NodeWeight]())

    /// A node of the demo route and its weight.
    struct NodeWeight: Sendable, Equatable {
        var address: String
        var weight: Int
    }

    /// The event loop `start` made for the brokers and the fleet, shut down by `stop()`.
    let ownedGroup: EventLoopGroup?

    public init(cluster: DemoCluster, fleet: ClientFleet, settings: DemoSettings, engine: any EngineControl,
                store: any RouteStore, logger: Logger, ownedGroup: EventLoopGroup? = nil)
    {
        self.ownedGroup = ownedGroup
        self.cluster = cluster
        self.fleet = fleet
        self.settings = settings
        self.engine = engine
        self.store = store
        self.logger = logger
        timeline = DemoTimeline()
    }

    /// Writes the demo route (all brokers, weight 1) to the store.
    public func installRoute() async throws {
        let nodes = cluster.brokers.map { NodeWeight(address: $0.address, weight: 1) }
        lastNodes.withLockedValue { $0 = nodes }
        _ = try await store.put(.streamRoutes, id: DemoCluster.routeID,
                            json: DemoCluster.routeJSON(nodes: nodes.map { ($0.address, $0.weight) }))
    }

    /// Where the demo route's clients are now.
    public func placement() -> Placement { .of(engine.snapshot(), routeID: DemoCluster.routeID) }

    /// The demo route's nodes as stored: address and weight.
    public func routeNodes() async -> [(address: String, weight: Int)] {
        let resources = await store.snapshot().resources
        guard let route = resources.streamRoutes[DemoCluster.routeID]?.value,
              let upstream = resources.upstream(for: route)
        else { return [] }
        return upstream.nodes.map { ($0.address, $0.weight) }
    }

    /// Waits until the demo route has settled, at most `timeout` s: the fleet is (nearly) all connected and
    /// placed, nothing is pending, no client sits on a killed broker, and no client remains that the ring
    /// places on another live node.
    public func settle(timeout: Double = 10) async {
        let deadline = Date().addingTimeInterval(timeout)
        try? await Task.sleep(nanoseconds: 300_000_000)
        // With churn some clients are always between connections; without, wait for every one.
        let want = settings.churnPerSecond > 0 ? Int(Double(settings.clients) * 0.97) : settings.clients
        while Date() < deadline, !Task.isCancelled {
            if await isSettled(want: want) { break }
            try? await Task.sleep(nanoseconds: 100_000_000)
        }
        try? await Task.sleep(nanoseconds: 200_000_000)
    }

    private func isSettled(want: Int) async -> Bool {
        guard await fleet.currentStats.connected >= want, engine.snapshot().pending == 0 else { return false }
        let placed = placement()
        let dead = cluster.deadAddresses
        guard placed.count >= want, !placed.values.contains(where: dead.contains) else { return false }
        return await misplaced().isEmpty
    }

    /// Clients the ring places on another live node than the one they are on.
    private func misplaced() async -> [RebalancePreview.Move] {
        let resources = await store.snapshot().resources
        let gone = cluster.deadAddresses.union(cluster.hungAddresses)
        return await engine.previewRebalance(proposed: resources).moves.filter { move in
            move.routeID == DemoCluster.routeID && move.to.map { !gone.contains($0) } == true
        }
    }

    /// Kills a broker; its clients reconnect through the proxy, which retries them onto the next ring node.
    @discardableResult
    public func kill(_ address: String) async -> String {
        let before = placement()
        let name = cluster.broker(at: address)?.name ?? address
        guard await cluster.kill(address) else { return "\(name) is not running" }
        engine.note("demo: killed \(name) (\(address)); its clients reconnect elsewhere", node: address)
        let (change, _) = await record("kill", address, before: before, sendBack: false)
        return "killed \(name): \(change.movedFromNode) of its \(change.onNodeBefore) clients moved to other nodes"
    }

    /// Revives a killed broker and sends back the clients the ring places on it.
    @discardableResult
    public func revive(_ address: String) async -> String {
        let before = placement()
        let name = cluster.broker(at: address)?.name ?? address
        do {
            guard try await cluster.revive(address) else { return "\(name) is already running" }
        } catch {
            return "\(name) could not be revived: \(error)"
        }
        engine.note("demo: revived \(name) (\(address))", node: address)
        // Its health check counted it down while it was dead; clients go back once it counts it up again.
        _ = await waitForHealth(address, healthy: true)
        let (change, sent) = await record("revive", address, before: before, sendBack: true)
        return "revived \(name): \(sent) client(s) sent back, \(change.movedToNode) now on it"
    }

    /// Freezes a broker (it accepts and answers nothing); once its health check counts it down, its clients are
    /// reconnected, and the proxy places them on the next ring node.
    @discardableResult
    public func hang(_ address: String) async -> String {
        let before = placement()
        let name = cluster.broker(at: address)?.name ?? address
        guard await cluster.hang(address) else { return "\(name) is not running or already frozen" }
        engine.note("demo: froze \(name) (\(address)); the health check should count it down", node: address)
        let started = Date()
        guard await waitForHealth(address, healthy: false) else {
            return "froze \(name), but its health check did not count it down within 15 s"
        }
        let detected = Date().timeIntervalSince(started)
        let (change, _) = await record("hang", address, before: before, sendBack: true)
        return String(format: "froze %@: unhealthy after %.1f s; %d of its %d clients moved to other nodes",
                      name, detected, change.movedFromNode, change.onNodeBefore)
    }

    /// Lets a frozen broker answer again; once it is healthy, the clients the ring places on it are sent back.
    @discardableResult
    public func unhang(_ address: String) async -> String {
        let before = placement()
        let name = cluster.broker(at: address)?.name ?? address
        guard await cluster.unhang(address) else { return "\(name) is not frozen" }
        engine.note("demo: \(name) (\(address)) answers again", node: address)
        _ = await waitForHealth(address, healthy: true)
        let (change, sent) = await record("unhang", address, before: before, sendBack: true)
        return "\(name) answers again: \(sent) client(s) sent back, \(change.movedToNode) now on it"
    }

    /// Drains a node at `evictPerSecond`: its clients are moved off (they reconnect onto the next ring node).
    @discardableResult
    public func drain(_ address: String, evictPerSecond: Double = 20) async -> String {
        let before = placement()
        let name = cluster.broker(at: address)?.name ?? address
        do throws(ControlError) {
            _ = try await engine.drain(node: address, evictPerSecond: evictPerSecond, serverReference: nil)
        } catch {
            return "\(name) not drained: \(error)"
        }
        let (change, _) = await record("drain", address, before: before, sendBack: false)
        return "draining \(name): \(change.movedFromNode) of its \(change.onNodeBefore) clients moved to other nodes"
    }

    /// Ends a drain; the clients the ring places on the node are sent back.
    @discardableResult
    public func undrain(_ address: String) async -> String {
        let before = placement()
        let name = cluster.broker(at: address)?.name ?? address
        guard await engine.undrain(node: address) else { return "\(name) is not drained" }
        let (change, sent) = await record("undrain", address, before: before, sendBack: true)
        return "\(name) takes clients again: \(sent) client(s) sent back, \(change.movedToNode) now on it"
    }

    /// Settles after a step on `address` (first sending back the clients the ring places elsewhere, with
    /// `sendBack`), then records what moved since `before`; returns the change and how many clients were sent.
    private func record(_ verb: String, _ address: String, before: Placement, sendBack: Bool) async -> (DemoChange, Int) {
        let sent = sendBack ? await rebalance() : 0
        await settle(timeout: settings.settleTimeout)
        let name = cluster.broker(at: address)?.name ?? address
        let change = DemoChange.compare(time: timeline.elapsed, description: "\(verb) \(name) (\(address))",
                                        node: address, before: before, after: placement())
        timeline.append(change)
        return (change, sent)
    }

    /// Waits until the engine counts `address` healthy (or not), at most 15 s.
    private func waitForHealth(_ address: String, healthy: Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(15)
        var version = engine.snapshotVersion
        while Date() < deadline, !Task.isCancelled {
            if engine.snapshot().health.first(where: { $0.node == address })?.healthy == healthy { return true }
            version = await engine.nextVersion(after: version, timeout: 0.5)
        }
        return false
    }

    /// Starts a new broker (not yet in the route) and returns its address.
    public func addBroker() async throws -> String {
        let broker = try await cluster.addBroker()
        engine.note("demo: started \(broker.name) on \(broker.address)", node: broker.address)
        return broker.address
    }

    /// The demo route changed (console, admin API or file): works out what changed, reconnects the clients
    /// the new ring places elsewhere, then records the moves.
    public func routeChanged() async {
        let now = await routeNodes()
        let previous = lastNodes.withLockedValue { old -> [NodeWeight] in
            defer { old = now.map { NodeWeight(address: $0.address, weight: $0.weight) } }
            return old
        }
        let (description, node) = DemoController.describe(from: previous, to: now.map {
            NodeWeight(address: $0.address, weight: $0.weight)
        })
        await routeChanged(description, node: node)
    }

    /// What a change of the route's nodes was, in words, and the node it was about.
    static func describe(from old: [NodeWeight], to new: [NodeWeight]) -> (String, String?) {
        let oldMap = Dictionary(old.map { ($0.address, $0.weight) }, uniquingKeysWith: { a, _ in a })
        let newMap = Dictionary(new.map { ($0.address, $0.weight) }, uniquingKeysWith: { a, _ in a })
        let added = new.filter { oldMap[$0.address] == nil }
        let removed = old.filter { newMap[$0.address] == nil }
        let reweighted = new.filter { node in oldMap[node.address].map { $0 != node.weight } ?? false }
        if added.count == 1, removed.isEmpty, reweighted.isEmpty { return ("add node \(added[0].address)", added[0].address) }
        if removed.count == 1, added.isEmpty, reweighted.isEmpty {
            return ("remove node \(removed[0].address)", removed[0].address)
        }
        if reweighted.count == 1, added.isEmpty, removed.isEmpty {
            let n = reweighted[0]
            return ("weight of \(n.address) \(oldMap[n.address] ?? 0)→\(n.weight)", n.address)
        }
        return ("route \(DemoCluster.routeID) changed", nil)
    }

    /// After a route change: reconnects the clients the new ring places elsewhere, then records the moves.
    public func routeChanged(_ description: String, node: String?) async {
        let before = placement()
        try? await Task.sleep(nanoseconds: 200_000_000)
        _ = await rebalance()
        await settle(timeout: settings.settleTimeout)
        timeline.append(DemoChange.compare(time: timeline.elapsed, description: description, node: node,
                                           before: before, after: placement()))
    }

    /// Closes the connections the current ring places on another live node, so they reconnect there (what a
    /// fleet does over time by itself, done at once so the demo shows it). Returns how many.
    @discardableResult
    public func rebalance() async -> Int {
        var ids: Set<String> = []
        var ips: Set<String> = []
        for move in await misplaced() {
            if let id = move.clientID { ids.insert(id) } else { ips.insert(move.hashKey) }
        }
        let a = await fleet.reconnect(clientIDs: ids)
        let b = await fleet.reconnect(localIPs: ips)
        return a + b
    }

    /// The report: the route's nodes with expected and observed shares, and every change so far.
    public func report() async -> DemoReport {
        let nodes = await routeNodes()
        let dead = cluster.deadAddresses
        return DemoReport(
            nodes: nodes.map { n in
                (n.address, cluster.broker(at: n.address)?.name ?? "-", n.weight, !dead.contains(n.address))
            },
            placement: placement(), changes: timeline.all)
    }

    /// The headless scenario over `duration` seconds: after the fleet settles, the second broker is killed and
    /// revived, then frozen and thawed (the health check must notice), then the last broker is drained and
    /// undrained; each step at its own seventh of the run, and the run goes on to the end.
    public func runScenario(duration: Double, progress: @Sendable (String) -> Void = { _ in }) async {
        await settle(timeout: max(3, duration / 7 - 1))
        let brokers = cluster.brokers.map(\.address)
        guard let victim = brokers.count > 1 ? brokers[1] : brokers.first else { return }
        let drained = brokers.last ?? victim
        let steps: [@Sendable () async -> String] = [
            { await self.kill(victim) }, { await self.revive(victim) },
            { await self.hang(victim) }, { await self.unhang(victim) },
            { await self.drain(drained) }, { await self.undrain(drained) },
        ]
        for (index, step) in steps.enumerated() {
            await sleep(until: duration * Double(index + 1) / Double(steps.count + 1))
            let outcome = await step()
            logger.notice("demo: \(outcome)")
            progress(String(format: "t=%.1fs ", timeline.elapsed) + outcome)
        }
        await sleep(until: duration)
    }

    private func sleep(until second: Double) async {
        let left = second - timeline.elapsed
        if left > 0 { try? await Task.sleep(nanoseconds: UInt64(left * 1e9)) }
    }
}

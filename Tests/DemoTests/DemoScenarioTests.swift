import Demo
import DemoBroker
import Foundation
import Logging
import NIOPosix
import ProxyEngine
import ProxyModel
import ProxyTestSupport
import RouteStore
import Testing

/// A demo wired by hand: an engine on a free loopback port, a store in a temp folder, demo brokers and a
/// fleet of simulated clients, with store changes applied to the engine as `serve` does.
struct DemoRig {
    let controller: DemoController
    let engine: ProxyEngine
    let store: FileStore
    let dir: String
    /// Applies store changes to the engine, one at a time, as EngineService does.
    let follower: Task<Void, Never>

    static func start(brokers: Int, clients: Int, seed: UInt64 = 7, hostPrefix: String,
                      group: MultiThreadedEventLoopGroup) async throws
        -> DemoRig
    {
        let dir = NSTemporaryDirectory() + "mqtt-proxy-demo-test-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var logger = Logger(label: "demo-test")
        logger.logLevel = .critical
        let store = FileStore(path: dir + "/apisix.yaml", logger: logger)
        try await store.load()
        var engineSettings = EngineSettings()
        engineSettings.connectTimeout = 1
        let engine = ProxyEngine(settings: engineSettings, group: group, logger: logger)
        let changes = await store.changes()
        let follower = Task {
            for await event in changes.updates {
                if case .changed(let snapshot, _, _, _) = event { await engine.apply(snapshot) }
            }
        }
        let bound = try await engine.start(listeners: [StreamListener(host: "127.0.0.1", port: 0)])
        var settings = DemoSettings()
        settings.brokers = brokers
        settings.clients = clients
        settings.churnPerSecond = 0
        settings.seed = seed
        settings.publishInterval = 1
        // The full suite runs beside this on two cores: give reconnects time before a step's moves are counted.
        settings.settleTimeout = 30
        let cluster = try await DemoCluster.start(count: brokers, group: group, logger: logger, hostPrefix: hostPrefix)
        let fleet = ClientFleet(ids: DemoClientIDs.make(count: clients, seed: seed), proxyHost: "127.0.0.1",
                                settings: settings, loop: group.next())
        let controller = DemoController(cluster: cluster, fleet: fleet, settings: settings, engine: engine,
                                        store: store, logger: logger)
        try await controller.installRoute()
        await engine.apply(await store.snapshot())
        fleet.start(proxyPort: bound[0].port!)
        await controller.settle(timeout: 10)
        return DemoRig(controller: controller, engine: engine, store: store, dir: dir, follower: follower)
    }

    func stop() async {
        follower.cancel()
        await controller.fleet.stop()
        await controller.cluster.stop()
        await engine.stopAccepting()
        await engine.drain(timeout: 1)
        try? FileManager.default.removeItem(atPath: dir)
    }
}

@Suite("Demo: the fleet through the proxy, kills, revives and added brokers", .serialized)
struct DemoScenarioTests {
    @Test func everyNodeGetsItsShareAndAKillMovesOnlyThatNodesClientsWhoReturnOnRevive() async throws {
        try await withEventLoopGroup { group in
            let rig = try await DemoRig.start(brokers: 3, clients: 150, hostPrefix: "127.0.3.", group: group)
            let placement = rig.controller.placement()
            #expect(placement.count >= 145, "clients placed: \(placement.count)")
            let report = await rig.controller.report()
            for node in report.nodes {
                #expect(node.clients > 0, "\(node.node) got no client")
                #expect(abs(node.observedShare - node.expectedShare) < 0.15,
                        "\(node.node): observed \(node.observedShare), expected \(node.expectedShare)")
            }
            // The demo brokers saw the same clients the proxy placed on them.
            for broker in rig.controller.cluster.brokers {
                let placed = Set(placement.filter { $0.value == broker.address && !$0.key.hasPrefix("<empty>") }.keys)
                #expect(placed.isSubset(of: Set(broker.connectedClients)), "\(broker.name)")
            }

            let victim = rig.controller.cluster.brokers[1]
            let message = await rig.controller.kill(victim.address)
            #expect(message.hasPrefix("killed broker-2"))
            let kill = try #require(rig.controller.timeline.all.last)
            #expect(kill.onNodeBefore > 0)
            #expect(kill.movedFromNode == kill.onNodeBefore, "every client of the killed broker moved")
            #expect(kill.moved == kill.movedFromNode, "no other client moved")
            #expect(!rig.controller.placement().values.contains(victim.address))
            // The kill shows in the log: the route's health check counts the dead broker down.
            #expect(await until(rig.engine) { snap in
                snap.events.contains { $0.kind == .health && $0.node == victim.address && $0.message.contains("unhealthy") }
            })

            _ = await rig.controller.revive(victim.address)
            let revive = try #require(rig.controller.timeline.all.last)
            #expect(revive.movedClients == kill.movedClients, "the same clients came back")
            #expect(revive.movedToNode == revive.moved)
            #expect(rig.controller.placement().values.filter { $0 == victim.address }.count == kill.onNodeBefore)

            let text = await rig.controller.report().text
            #expect(text.contains("kill broker-2 (\(victim.address))"))
            #expect(text.contains("revive broker-2"))
            await rig.stop()
        }
    }

    @Test func anAddedBrokerOnlyTakesClientsOverAndAWeightChangeMovesThemTowardsTheHeavierNode() async throws {
        try await withEventLoopGroup { group in
            let rig = try await DemoRig.start(brokers: 2, clients: 120, hostPrefix: "127.0.4.", group: group)
            let address = try await rig.controller.addBroker()
            var nodes = await rig.controller.routeNodes()
            nodes.append((address, 1))
            try await rig.store.put(.streamRoutes, id: DemoCluster.routeID, json: DemoCluster.routeJSON(nodes: nodes))
            await rig.controller.routeChanged()
            let added = try #require(rig.controller.timeline.all.last)
            #expect(added.description == "add node \(address)")
            #expect(added.moved > 0)
            #expect(added.movedToNode == added.moved, "adding a node only moves clients onto it")

            nodes[0].weight = 3
            try await rig.store.put(.streamRoutes, id: DemoCluster.routeID, json: DemoCluster.routeJSON(nodes: nodes))
            await rig.controller.routeChanged()
            let heavier = try #require(rig.controller.timeline.all.last)
            #expect(heavier.description == "weight of \(nodes[0].address) 1→3")
            #expect(heavier.movedToNode == heavier.moved, "a heavier node only gains clients")
            let report = await rig.controller.report()
            #expect(report.nodes[0].expectedShare == 0.6)
            #expect(abs(report.nodes[0].observedShare - 0.6) < 0.15)
            await rig.stop()
        }
    }

    @Test func clientIDsAreRealisticAndRepeatWithTheSeed() {
        let a = DemoClientIDs.make(count: 400, seed: 7)
        #expect(a == DemoClientIDs.make(count: 400, seed: 7))
        #expect(a != DemoClientIDs.make(count: 400, seed: 8))
        #expect(a.contains { $0.hasPrefix("sensor-") && $0.count == 11 })
        #expect(a.contains { $0.range(of: #"^truck-(eu|us|ap|sa)-\d+$"#, options: .regularExpression) != nil })
        #expect(a.contains { $0.hasPrefix("meter-") } && a.contains { $0.hasPrefix("cam-") })
        let empty = a.filter(\.isEmpty).count
        #expect(empty > 5 && empty < 45, "about 5 % empty ids: \(empty)")
        #expect(Set(a.filter { !$0.isEmpty }).count == a.count - empty, "non-empty ids are distinct")
        #expect(DemoSettings.parseChurn("5/s") == 5)
        #expect(DemoSettings.parseChurn("30/m") == 0.5)
        #expect(DemoSettings.parseChurn("0") == 0)
        #expect(DemoSettings.parseChurn("fast") == nil)
        #expect(DemoSettings.parseChurn("5/h") == nil)
    }
}

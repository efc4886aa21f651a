import DemoBroker
import Logging
import NIOPosix
import ProxyControl
import RouteStore

extension DemoController {
    /// Sets a demo up on its own event loop: starts `settings.brokers` brokers, makes the fleet (it connects once
    /// `DemoService` runs) and writes the demo route to `store`.
    public static func start(settings: DemoSettings, engine: any EngineControl, store: any RouteStore,
                             logger: Logger = Logger(label: "mqtt-proxy.demo")) async throws -> DemoController
    {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        do {
            let cluster = try await DemoCluster.start(count: settings.brokers, group: group, logger: logger)
            let ids = DemoClientIDs.make(count: settings.clients, seed: settings.seed, emptyShare: settings.emptyIDShare)
            let fleet = ClientFleet(ids: ids, proxyHost: "127.0.0.1", settings: settings, loop: group.next())
            let controller = DemoController(cluster: cluster, fleet: fleet, settings: settings, engine: engine,
                                            store: store, logger: logger, ownedGroup: group)
            try await controller.installRoute()
            return controller
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    /// Stops the fleet and the brokers, and the event loop the demo made for them.
    public func stop() async {
        await fleet.stop()
        await cluster.stop()
        try? await ownedGroup?.shutdownGracefully()
    }
}

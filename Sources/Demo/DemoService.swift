import Logging
import RouteStore
import ServiceLifecycle

/// The demo as a service beside the engine and the admin API: connects the fleet, follows changes of the
/// demo route, and either runs until shutdown (with the console) or runs the headless scenario, hands the
/// report over and ends (which stops the whole group).
public struct DemoService: Service {
    let controller: DemoController
    let headlessDuration: Double?
    let onReport: @Sendable (DemoReport) -> Void
    let onProgress: @Sendable (String) -> Void

    /// Headless, `onProgress` hears each step as it happens and `onReport` gets the final report.
    public init(controller: DemoController, headlessDuration: Double?,
                onProgress: @escaping @Sendable (String) -> Void = { _ in },
                onReport: @escaping @Sendable (DemoReport) -> Void = { _ in })
    {
        self.controller = controller
        self.headlessDuration = headlessDuration
        self.onProgress = onProgress
        self.onReport = onReport
    }

    public func run() async throws {
        let controller = self.controller
        controller.fleet.start()
        let token = await controller.store.subscribe { event in
            if case .changed(_, kind: .streamRoutes, id: DemoCluster.routeID, deleted: false) = event {
                Task { await controller.routeChanged() }
            }
        }
        if let duration = headlessDuration {
            await controller.runScenario(duration: duration, progress: onProgress)
            onReport(await controller.report())
        } else {
            try? await gracefulShutdown()
        }
        await controller.store.unsubscribe(token)
        await controller.fleet.stop()
        await controller.cluster.stop()
    }
}

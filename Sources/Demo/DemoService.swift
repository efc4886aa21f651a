import Logging
import RouteStore
import ServiceLifecycle

/// The demo as a service beside the engine and the admin API: connects the fleet, follows changes of the
/// demo route, and either runs until shutdown (with the console) or runs the headless scenario, hands the
/// report over and ends (which stops the whole group).
public struct DemoService: Service {
    let controller: DemoController
    let proxyPort: @Sendable () async -> Int?
    let headlessDuration: Double?
    let onStarted: @Sendable (Int) async -> Void
    let onReport: @Sendable (DemoReport) -> Void
    let onProgress: @Sendable (String) -> Void

    /// `proxyPort` tells (once the proxy listens) where the fleet connects; `onStarted` hears that port once the
    /// fleet is on its way. Headless, `onProgress` hears each step as it happens and `onReport` gets the report.
    public init(controller: DemoController, proxyPort: @escaping @Sendable () async -> Int?,
                headlessDuration: Double?, onStarted: @escaping @Sendable (Int) async -> Void = { _ in },
                onProgress: @escaping @Sendable (String) -> Void = { _ in },
                onReport: @escaping @Sendable (DemoReport) -> Void = { _ in })
    {
        self.controller = controller
        self.proxyPort = proxyPort
        self.headlessDuration = headlessDuration
        self.onStarted = onStarted
        self.onProgress = onProgress
        self.onReport = onReport
    }

    public func run() async throws {
        let controller = self.controller
        let changes = await controller.store.changes()
        guard let port = await proxyPort() else { return }
        controller.fleet.start(proxyPort: port)
        await onStarted(port)
        await withTaskGroup(of: Void.self) { group in
            // Changes of the demo route are followed one at a time, in order.
            group.addTask {
                for await event in changes.updates {
                    if case .changed(_, kind: .streamRoutes, id: DemoCluster.routeID, deleted: false) = event {
                        await controller.routeChanged()
                    }
                }
            }
            if let duration = headlessDuration {
                await controller.runScenario(duration: duration, progress: onProgress)
                onReport(await controller.report())
            } else {
                try? await gracefulShutdown()
            }
            group.cancelAll()
        }
        await controller.stop()
    }
}

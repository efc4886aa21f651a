import Logging
import ProxyControl
import RouteStore
import ServiceLifecycle

/// Runs what an attached console needs besides itself: one follower per instance, the store's poll, and (with
/// `discover`) a look for new fleet members every `discoveryInterval` seconds. Ends on graceful shutdown.
public struct FleetService: Service {
    let fleet: FleetControl
    let store: (any RouteStore)?
    let discover: (@Sendable () async -> [String])?
    let discoveryInterval: Double
    let logger: Logger

    public init(fleet: FleetControl, store: (any RouteStore)?, logger: Logger, discoveryInterval: Double = 10,
                discover: (@Sendable () async -> [String])? = nil)
    {
        self.fleet = fleet
        self.store = store
        self.discover = discover
        self.discoveryInterval = discoveryInterval
        self.logger = logger
    }

    public func run() async throws {
        try await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                var started = Set<ObjectIdentifier>()
                func follow(_ instances: [RemoteInstance]) {
                    for instance in instances where started.insert(ObjectIdentifier(instance)).inserted {
                        group.addTask { await instance.run() }
                    }
                }
                follow(fleet.instances)
                if let store { group.addTask { await store.run() } }
                guard let discover else { return }
                while !Task.isCancelled {
                    try? await Task.sleep(nanoseconds: UInt64(discoveryInterval * 1e9))
                    guard !Task.isCancelled else { break }
                    for url in await discover() where fleet.add(url: url) != nil {
                        logger.notice("attached to a new instance at \(url)")
                    }
                    follow(fleet.instances)
                }
            }
        }
    }
}

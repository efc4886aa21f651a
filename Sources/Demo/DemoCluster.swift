import DemoBroker
import Logging
import NIOConcurrencyHelpers
import NIOCore
import ProxyModel

/// The demo's brokers: broker *i* listens on 127.0.1.*i*:1883 (by default) when it can (so node ids, and with them every
/// placement, are the same from run to run), else on a free port of that address. Brokers can be killed,
/// revived and added while the demo runs.
public final class DemoCluster: Sendable {
    /// The stream route the demo creates.
    public static let routeID = "demo"

    private let group: EventLoopGroup
    private let logger: Logger
    /// Brokers listen on `<hostPrefix><n>` (default `127.0.1.`): a second demo on the same machine (or a test)
    /// picks another prefix.
    private let hostPrefix: String
    private let members = NIOLockedValueBox([DemoBroker]())
    private let dead = NIOLockedValueBox(Set<String>())

    private init(group: EventLoopGroup, logger: Logger, hostPrefix: String) {
        self.group = group
        self.logger = logger
        self.hostPrefix = hostPrefix
    }

    /// Starts `count` brokers on `<hostPrefix>1`, `<hostPrefix>2`, …
    public static func start(count: Int, group: EventLoopGroup, logger: Logger, hostPrefix: String = "127.0.1.")
        async throws -> DemoCluster
    {
        let cluster = DemoCluster(group: group, logger: logger, hostPrefix: hostPrefix)
        for _ in 0..<count { _ = try await cluster.addBroker() }
        return cluster
    }

    /// Starts one more broker (`broker-N`) and returns it.
    public func addBroker() async throws -> DemoBroker {
        let index = members.withLockedValue { $0.count } + 1
        let host = "\(hostPrefix)\(index)"
        let broker: DemoBroker
        do {
            broker = try await DemoBroker.start(name: "broker-\(index)", host: host, port: 1883, group: group,
                                                logger: logger)
        } catch {
            logger.notice("demo: \(host):1883 is taken (\(error)); broker-\(index) uses a free port")
            broker = try await DemoBroker.start(name: "broker-\(index)", host: host, port: 0, group: group,
                                                logger: logger)
        }
        members.withLockedValue { $0.append(broker) }
        return broker
    }

    public var brokers: [DemoBroker] { members.withLockedValue { $0 } }

    /// The broker at `ip:port`, if it is one of ours.
    public func broker(at address: String) -> DemoBroker? { brokers.first { $0.address == address } }

    /// Addresses of the brokers that are killed right now.
    public var deadAddresses: Set<String> { dead.withLockedValue { $0 } }

    /// Kills the broker at `address`: its port refuses connections and its clients see a close.
    @discardableResult
    public func kill(_ address: String) async -> Bool {
        guard let broker = broker(at: address), !deadAddresses.contains(address) else { return false }
        await broker.kill()
        dead.withLockedValue { _ = $0.insert(address) }
        return true
    }

    /// Brings a killed broker back on the same address.
    @discardableResult
    public func revive(_ address: String) async throws -> Bool {
        guard let broker = broker(at: address), deadAddresses.contains(address) else { return false }
        try await broker.revive()
        dead.withLockedValue { _ = $0.remove(address) }
        return true
    }

    /// Freezes the broker at `address` (it accepts and never answers); false when it is not running or already frozen.
    @discardableResult
    public func hang(_ address: String) async -> Bool {
        guard let broker = broker(at: address), !deadAddresses.contains(address), !broker.isHung else { return false }
        await broker.hang()
        return true
    }

    /// Lets a frozen broker answer again; false when it was not frozen.
    @discardableResult
    public func unhang(_ address: String) async -> Bool {
        guard let broker = broker(at: address), broker.isHung else { return false }
        await broker.unhang()
        return true
    }

    /// Addresses of the brokers that are frozen right now.
    public var hungAddresses: Set<String> { Set(brokers.filter(\.isHung).map(\.address)) }

    /// Stops every broker for good.
    public func stop() async {
        for broker in brokers { await broker.stop() }
    }

    /// The demo's stream route: the mqtt-proxy plugin (MQTT 3.1.1) and a chash upstream on the client id over
    /// `nodes` (address and weight).
    public static func routeJSON(nodes: [(address: String, weight: Int)]) -> JSONValue {
        [
            "name": "demo fleet",
            "desc": "consistent hashing on mqtt_client_id over the demo brokers",
            "plugins": ["mqtt-proxy": ["protocol_name": "MQTT", "protocol_level": 4]],
            "upstream": [
                "type": "chash", "key": "mqtt_client_id",
                // Probes that notice a frozen broker within about three seconds.
                "checks": ["active": ["type": "mqtt", "timeout": 0.5, "healthy": ["interval": 1, "successes": 1],
                                      "unhealthy": ["interval": 1, "timeouts": 2, "tcp_failures": 1]]],
                "nodes": .array(nodes.map { node in
                    let endpoint = HostPort(node.address) ?? HostPort(host: node.address, port: 1883)
                    return ["host": .string(endpoint.host), "port": .int(endpoint.port), "weight": .int(node.weight)]
                }),
            ],
        ]
    }
}

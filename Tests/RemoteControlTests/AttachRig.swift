import AdminAPI
import Foundation
import Logging
import NIOPosix
import ProxyControl
import ProxyEngine
import ProxyModel
import ProxyTestSupport
import RemoteControl
import RouteStore

let adminKey = "edd1c9f034335f136f87ad84b625c8f1"
let viewerKey = "4054f7cf07e344346cd3f287985e76a2"

/// A running instance as an attached console meets it: an engine over two recording brokers, its file store and its
/// admin API listening on a free loopback port.
final class AttachRig: Sendable {
    let proxy: ProxyHarness
    let store: FileStore
    let brokers: [RecordingUpstream]
    let directory: String
    let url: String
    private let server: Task<Void, Never>

    static func route(_ brokers: [RecordingUpstream]) -> JSONValue {
        ["plugins": ["mqtt-proxy": ["protocol_level": 4]],
         "upstream": ["type": "chash", "key": "mqtt_client_id",
                      "nodes": .object(.init(uniqueKeysWithValues: brokers.map { ($0.address, JSONValue.int(1)) }))]]
    }

    static func start(group: MultiThreadedEventLoopGroup, instanceID: String, hosts: [String] = ["127.0.0.1", "127.0.0.2"])
        async throws -> AttachRig
    {
        var brokers: [RecordingUpstream] = []
        for host in hosts { brokers.append(try await RecordingUpstream.start(host: host, greeting: .connack, group: group)) }
        let directory = NSTemporaryDirectory() + "mqtt-proxy-attach-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let store = FileStore(path: directory + "/apisix.yaml")
        try await store.load()
        try await store.put(.streamRoutes, id: "1", json: route(brokers))
        let proxy = try await ProxyHarness.start(resources: await store.snapshot().resources, group: group)
        var admin = AdminConfig()
        admin.keys = [AdminKey(name: "admin", key: adminKey, role: .admin),
                      AdminKey(name: "viewer", key: viewerKey, role: .viewer)]
        admin.listenHost = "127.0.0.1"
        admin.listenPort = 0
        let listening = ReadyValue<String>()
        var logger = Logger(label: "attach-test")
        logger.logLevel = .critical
        let service = AdminServer.service(settings: AdminSettings(admin: admin, instanceID: instanceID), store: store,
                                          engine: proxy.engine, metrics: nil, logger: logger, listening: listening)
        let server = Task { _ = try? await service.run() }
        guard let address = await listening.value() else { throw AttachRigError("the admin API did not start") }
        return AttachRig(proxy: proxy, store: store, brokers: brokers, directory: directory, url: "http://\(address)",
                         server: server)
    }

    private init(proxy: ProxyHarness, store: FileStore, brokers: [RecordingUpstream], directory: String, url: String,
                 server: Task<Void, Never>)
    {
        self.proxy = proxy
        self.store = store
        self.brokers = brokers
        self.directory = directory
        self.url = url
        self.server = server
    }

    /// Stops answering on the admin API (the engine goes on): the instance is lost to a follower.
    func stopAdmin() async {
        server.cancel()
        _ = await server.value
    }

    /// A held MQTT client through the proxy.
    func client(_ id: String) async throws -> TestClient {
        let c = try await proxy.client()
        try await c.send(ConnectBytes.make(clientID: id))
        _ = await c.waitForBytes(4)
        return c
    }

    func stop() async {
        await stopAdmin()
        await proxy.stop()
        for b in brokers { await b.stop() }
        try? FileManager.default.removeItem(atPath: directory)
    }
}

struct AttachRigError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Waits (on the fleet's version changes, at most `timeout` seconds) until `condition` holds for its snapshot.
func eventually(_ fleet: FleetControl, timeout: Double = 10, _ condition: (EngineSnapshot) -> Bool) async -> EngineSnapshot {
    let deadline = Date().addingTimeInterval(timeout)
    var snapshot = fleet.snapshot()
    while !condition(snapshot), Date() < deadline {
        _ = await fleet.nextVersion(after: snapshot.version, timeout: 0.5)
        snapshot = fleet.snapshot()
    }
    return snapshot
}

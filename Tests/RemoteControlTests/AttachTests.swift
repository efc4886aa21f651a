import Foundation
import NIOPosix
import ProxyControl
import ProxyModel
import ProxyTestSupport
import RemoteControl
import RouteStore
import Testing

/// The console's engine control over real admin APIs on loopback: what it sees, what it does, and what it shows when
/// an instance stops answering.
@Suite("Attached: following instances through their admin APIs", .serialized)
struct AttachTests {
    @Test func connectionsComeAndGoAndADisconnectReachesTheInstance() async throws {
        try await withEventLoopGroup { group in
            let rig = try await AttachRig.start(group: group, instanceID: "instance-a")
            let held = [try await rig.client("sensor-1"), try await rig.client("sensor-2")]
            let fleet = FleetControl(urls: [rig.url], key: adminKey)
            let follower = Task { await fleet.instances[0].run() }

            var snap = await eventually(fleet) { $0.connections.count == 2 }
            #expect(Set(snap.connections.compactMap(\.clientID)) == ["sensor-1", "sensor-2"])
            #expect(snap.connections.allSatisfy { $0.instance == "instance-a" })
            #expect(snap.instances.first?.name == "instance-a")
            #expect(snap.instances.first?.role == "admin")
            #expect(snap.instances.first?.reachable == true)
            #expect(snap.routes.first?.active == 2)

            let late = try await rig.client("sensor-3")
            snap = await eventually(fleet) { $0.connections.contains { $0.clientID == "sensor-3" } }
            #expect(snap.connections.count == 3)
            #expect(snap.events.contains { $0.kind == .connected && $0.clientID == "sensor-3" && $0.instance == "instance-a" })

            await held[0].close()
            snap = await eventually(fleet) { !$0.connections.contains { $0.clientID == "sensor-1" } }
            #expect(snap.connections.count == 2)

            let target = try #require(snap.connections.first { $0.clientID == "sensor-2" })
            #expect(await fleet.disconnect(connectionID: target.id))
            #expect(await held[1].waitForClose(timeout: 5))
            #expect(await !fleet.disconnect(connectionID: target.id))

            follower.cancel()
            await late.close()
            await rig.stop()
        }
    }

    @Test func aLostInstanceKeepsItsLastConnectionsMarkedUnreachable() async throws {
        try await withEventLoopGroup { group in
            let rig = try await AttachRig.start(group: group, instanceID: "instance-b")
            let held = try await rig.client("meter-1")
            let fleet = FleetControl(urls: [rig.url], key: adminKey)
            let follower = Task { await fleet.instances[0].run() }
            _ = await eventually(fleet) { $0.connections.count == 1 }

            await rig.stopAdmin()
            let snap = await eventually(fleet) { $0.instances.first?.reachable == false }
            #expect(snap.instances.first?.reachable == false)
            #expect(snap.instances.first?.lastSeen != nil)
            #expect(snap.instances.first?.lastError != nil)
            #expect(snap.connections.map(\.clientID) == ["meter-1"], "the last picture stays, greyed by the console")

            follower.cancel()
            await held.close()
            await rig.stop()
        }
    }

    @Test func twoInstancesMergeAndDrainsGoToEveryInstanceThatRoutesToTheNode() async throws {
        try await withEventLoopGroup { group in
            let a = try await AttachRig.start(group: group, instanceID: "a")
            let b = try await AttachRig.start(group: group, instanceID: "b", hosts: ["127.0.0.3", "127.0.0.4"])
            let clients = [try await a.client("x-1"), try await b.client("x-2"), try await b.client("x-3")]
            let fleet = FleetControl(urls: [a.url, b.url], key: adminKey)
            let followers = fleet.instances.map { instance in Task { await instance.run() } }
            let snap = await eventually(fleet) { $0.connections.count == 3 && $0.instances.allSatisfy(\.reachable) }
            #expect(snap.instances.map(\.name) == ["a", "b"])
            #expect(Dictionary(grouping: snap.connections, by: { $0.instance ?? "?" }).mapValues(\.count) == ["a": 1, "b": 2])
            #expect(Set(snap.connections.map(\.id)).count == 3, "ids stay unique across instances")
            #expect(snap.health.count == 4)

            let node = b.brokers[0].address
            let health = try await fleet.drain(node: node, evictPerSecond: nil, serverReference: nil)
            #expect(health.draining)
            #expect(b.proxy.engine.snapshot().health.first { $0.node == node }?.draining == true)
            await #expect(throws: ControlError.unknownNode("10.9.9.9:1883")) {
                try await fleet.drain(node: "10.9.9.9:1883", evictPerSecond: nil, serverReference: nil)
            }
            #expect(await fleet.undrain(node: node))
            #expect(b.proxy.engine.snapshot().health.first { $0.node == node }?.draining == false)

            for f in followers { f.cancel() }
            for c in clients { await c.close() }
            await a.stop()
            await b.stop()
        }
    }

    @Test func routeEditsGoThroughTheInstanceAndPreviewsComeFromItsDryRun() async throws {
        try await withEventLoopGroup { group in
            let rig = try await AttachRig.start(group: group, instanceID: "instance-c")
            var held: [TestClient] = []
            for i in 0..<12 { held.append(try await rig.client("dev-\(i)")) }
            let fleet = FleetControl(urls: [rig.url], key: adminKey)
            let store = AdminAPIStore(client: fleet.instances[0].client, pollInterval: 0.2)
            try await store.load()
            #expect(await store.snapshot().resources.streamRoutes["1"] != nil)
            let follower = Task { await fleet.instances[0].run() }
            let storeFollower = Task { await store.run() }
            _ = await eventually(fleet) { $0.connections.count == 12 }

            // One node less: its clients would move; the instance's dry run says which.
            var body = AttachRig.route([rig.brokers[0]])
            let preview = try await fleet.previewChange(.streamRoutes, id: "1", body: body, store: store)
            let onSecond = rig.proxy.engine.snapshot().connections.filter { $0.node == rig.brokers[1].address }.count
            #expect(preview.rebalance?.moves.count == onSecond)
            #expect(preview.rebalance?.considered == 12)

            body["desc"] = "edited through an attached console"
            let result = try await store.put(.streamRoutes, id: "1", json: body)
            #expect(!result.created)
            #expect(await rig.store.get(.streamRoutes, id: "1")?.value["desc"] == "edited through an attached console")

            await #expect(throws: StoreError.self) {
                try await store.put(.streamRoutes, id: "2", json: ["upstream": ["type": "chash", "nodes": [:]]])
            }
            // A change made elsewhere reaches the attached store.
            var other = AttachRig.route(rig.brokers)
            other["name"] = "written by someone else"
            try await rig.store.put(.streamRoutes, id: "7", json: other)
            let deadline = Date().addingTimeInterval(5)
            while await store.snapshot().resources.streamRoutes["7"] == nil, Date() < deadline {
                try await Task.sleep(nanoseconds: 50_000_000)
            }
            #expect(await store.snapshot().resources.streamRoutes["7"]?.value.name == "written by someone else")
            try await store.delete(.streamRoutes, id: "7")
            #expect(await rig.store.get(.streamRoutes, id: "7") == nil)
            await #expect(throws: StoreError.notFound(kind: .streamRoutes, id: "7")) {
                try await store.delete(.streamRoutes, id: "7")
            }

            follower.cancel()
            storeFollower.cancel()
            for c in held { await c.close() }
            await rig.stop()
        }
    }

    @Test func withoutEtcdEditsStayWithTheirInstanceWhenItIsLost() async throws {
        try await withEventLoopGroup { group in
            let a = try await AttachRig.start(group: group, instanceID: "a")
            let b = try await AttachRig.start(group: group, instanceID: "b", hosts: ["127.0.0.3"])
            let store = AdminAPIStore(clients: [AdminClient(baseURL: a.url, key: adminKey),
                                                AdminClient(baseURL: b.url, key: adminKey)])
            try await store.load()
            #expect(await store.status().provider == "file")
            await a.stopAdmin()
            // Each instance has its own file: writing b's would not change a's routes.
            await #expect(throws: StoreError.self) {
                try await store.put(.streamRoutes, id: "9", json: AttachRig.route(b.brokers))
            }
            #expect(await b.store.get(.streamRoutes, id: "9") == nil)
            await a.stop()
            await b.stop()
        }
    }

    @Test func aViewerKeyIsSeenAsReadOnlyAndAWrongKeyIsNamed() async throws {
        try await withEventLoopGroup { group in
            let rig = try await AttachRig.start(group: group, instanceID: "instance-d")
            let viewer = FleetControl(urls: [rig.url], key: viewerKey)
            let follower = Task { await viewer.instances[0].run() }
            let snap = await eventually(viewer) { $0.instances.first?.role != nil }
            #expect(snap.instances.first?.readOnly == true)
            follower.cancel()

            let wrong = AdminAPIStore(client: AdminClient(baseURL: rig.url, key: "nope"))
            do {
                try await wrong.load()
                Issue.record("a wrong key loaded the store")
            } catch {
                #expect("\(error)".contains("wrong apikey"), "\(error)")
            }
            await rig.stop()
        }
    }
}

import Foundation
import ProxyModel
import RouteStore
import Testing

let seedRoute: JSONValue = [
    "plugins": ["mqtt-proxy": ["protocol_name": "MQTT", "protocol_level": 4]],
    "upstream": ["type": "roundrobin", "nodes": [["host": "127.0.0.1", "port": 1980, "weight": 1]]],
]

@Suite("File store")
struct FileStoreTests {
    @Test func missingFileStartsEmptyAndFirstWriteCreatesIt() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let store = FileStore(path: dir.file("apisix.yaml"), clock: { 1_700_000_000 })
        try await store.load()
        #expect(await store.snapshot().resources.streamRoutes.isEmpty)
        let result = try await store.put(.streamRoutes, id: "1", json: seedRoute)
        #expect(result.created)
        #expect(result.object.value["create_time"] == .int(1_700_000_000))
        #expect(result.object.value["update_time"] == .int(1_700_000_000))
        let text = try dir.read("apisix.yaml")
        #expect(text.hasSuffix("#END\n"))
        // A second store reading the file sees the same route.
        let again = FileStore(path: dir.file("apisix.yaml"))
        try await again.load()
        #expect(await again.get(.streamRoutes, id: "1")?.value == result.object.value)
    }

    @Test func putReplacesAndKeepsCreateTime() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let clock = Clock()
        let store = FileStore(path: dir.file("s.yaml"), clock: { clock.tick() })
        try await store.load()
        let first = try await store.put(.streamRoutes, id: "1", json: seedRoute)
        var changed = seedRoute
        changed["desc"] = "changed"
        let second = try await store.put(.streamRoutes, id: "1", json: changed)
        #expect(!second.created)
        #expect(second.object.value["create_time"] == first.object.value["create_time"])
        #expect(second.object.value["update_time"] != first.object.value["update_time"])
        #expect(second.object.createdIndex == first.object.createdIndex)
        #expect(second.object.modifiedIndex > first.object.modifiedIndex)
        #expect(second.object.value["desc"] == "changed")
        // Defaults are not written into the stored value.
        #expect(second.object.value["upstream"]?["retries"] == nil)
        #expect(second.object.value["upstream"]?["hash_on"] == nil)
    }

    @Test func generatedIdsAreTwentyDigits() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let store = FileStore(path: dir.file("s.yaml"))
        try await store.load()
        let a = try await store.put(.streamRoutes, id: nil, json: seedRoute)
        let b = try await store.put(.streamRoutes, id: nil, json: seedRoute)
        for id in [a.object.id, b.object.id] {
            #expect(id.count == 20 && id.allSatisfy(\.isNumber))
        }
        #expect(a.object.id < b.object.id)
    }

    @Test func invalidPutsAreRefusedAndChangeNothing() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let store = FileStore(path: dir.file("s.yaml"))
        try await store.load()
        var bad = seedRoute
        bad["remote_addr"] = ":/8"
        await #expect(throws: StoreError.invalid(ValidationError(field: "remote_addr", "invalid remote_addr: :/8"))) {
            try await store.put(.streamRoutes, id: "1", json: bad)
        }
        var dangling = seedRoute
        dangling["upstream"] = nil
        if case .object(var d) = dangling {
            d.removeValue(forKey: "upstream")
            d["upstream_id"] = "nope"
            dangling = .object(d)
        }
        await #expect(throws: StoreError.self) { try await store.put(.streamRoutes, id: "2", json: dangling) }
        await #expect(throws: StoreError.self) { try await store.put(.streamRoutes, id: "bad id", json: seedRoute) }
        #expect(await store.snapshot().resources.streamRoutes.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: dir.file("s.yaml")))
    }

    @Test func referencedUpstreamNeedsForceToDelete() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let store = FileStore(path: dir.file("s.yaml"))
        try await store.load()
        _ = try await store.put(.upstreams, id: "u1", json: ["type": "chash", "key": "mqtt_client_id",
                                                             "nodes": ["127.0.0.1:1995": 1, "127.0.0.2:1995": 1]])
        _ = try await store.put(.streamRoutes, id: "1", json: [
            "plugins": ["mqtt-proxy": ["protocol_level": 5]], "upstream_id": "u1",
        ])
        await #expect(throws: StoreError.conflict(
            "can not delete this upstream, stream route [1] is still using it now")) {
            try await store.delete(.upstreams, id: "u1")
        }
        try await store.delete(.upstreams, id: "u1", force: true)
        await #expect(throws: StoreError.notFound(kind: .upstreams, id: "u1")) {
            try await store.delete(.upstreams, id: "u1")
        }
    }

    @Test func fiftyConcurrentWritersLoseNothing() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let store = FileStore(path: dir.file("s.yaml"))
        try await store.load()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<50 {
                group.addTask {
                    var body = seedRoute
                    body["desc"] = .string("writer \(i)")
                    _ = try await store.put(.streamRoutes, id: "r\(i)", json: body)
                }
            }
            try await group.waitForAll()
        }
        let reread = FileStore(path: dir.file("s.yaml"))
        try await reread.load()
        let routes = await reread.snapshot().resources.streamRoutes
        #expect(routes.count == 50)
        #expect(Set(routes.values.compactMap { $0.raw["desc"]?.stringValue }).count == 50)
    }
}

/// A clock that advances one second per call.
final class Clock: Sendable {
    private let now = LockedInt(1_700_000_000)
    func tick() -> Int { now.increment() }
}

final class LockedInt: @unchecked Sendable {
    private var value: Int
    private let lock = NSLock()
    init(_ v: Int) { value = v }
    func increment() -> Int {
        lock.lock()
        defer { lock.unlock() }
        value += 1
        return value
    }
}

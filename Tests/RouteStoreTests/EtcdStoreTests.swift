import Foundation
import Logging
import ProxyModel
import ProxyTestSupport
import RouteStore
import Synchronization
import Testing

/// The etcd store against a real etcd: APISIX's layout, revisions, compaction, outages, the local cache.
@Suite("etcd store", .serialized, .requires("etcd", "etcdctl"))
struct EtcdStoreTests {
    static let route: JSONValue = [
        "plugins": ["mqtt-proxy": ["protocol_name": "MQTT", "protocol_level": 4]],
        "upstream": ["type": "chash", "key": "mqtt_client_id", "nodes": ["127.0.0.1:1883": 1, "127.0.0.2:1883": 1]],
    ]

    static func config(_ etcd: EtcdServer, cache: String) -> EtcdConfig {
        var config = EtcdConfig()
        config.hosts = [etcd.endpoint]
        config.cachePath = cache
        config.watchTimeout = 5
        config.resyncDelay = 0.2
        config.timeout = 2
        return config
    }

    static func store(_ etcd: EtcdServer, cache: String, afterInitialRange: (@Sendable () async -> Void)? = nil) throws
        -> EtcdStore
    {
        var logger = Logger(label: "etcd-test")
        logger.logLevel = .critical
        return try EtcdStore(config: config(etcd, cache: cache), logger: logger, afterInitialRange: afterInitialRange)
    }

    /// Waits for the store's content to satisfy `condition`, woken by its changes.
    static func eventually(_ store: EtcdStore, _ changes: StoreChanges, timeout: Double = 10,
                           _ condition: @escaping @Sendable (ProxyResources) -> Bool) async -> Bool
    {
        if condition(await store.snapshot().resources) { return true }
        return await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                for await event in changes.updates {
                    if case .changed(let snap, _, _, _) = event, condition(snap.resources) { return true }
                    if case .reloaded(let snap) = event, condition(snap.resources) { return true }
                }
                return false
            }
            group.addTask {
                try? await Task.sleep(nanoseconds: UInt64(timeout * 1e9))
                return condition(await store.snapshot().resources)
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }

    @Test func writesUseAPISIXsKeysAndEtcdsRevisionsAndTellCreatedFromReplaced() async throws {
        let etcd = try await EtcdServer.start()
        defer { etcd.stop() }
        let dir = try TempDirectory()
        defer { dir.remove() }
        let store = try Self.store(etcd, cache: dir.file("cache.json"))
        try await store.load()
        let created = try await store.put(.streamRoutes, id: "1", json: Self.route)
        #expect(created.created)
        let replaced = try await store.put(.streamRoutes, id: "1", json: Self.route)
        #expect(!replaced.created)
        #expect(replaced.object.createdIndex == created.object.createdIndex)
        #expect(replaced.object.modifiedIndex > created.object.modifiedIndex)
        let (_, raw) = try await etcd.run(["get", "/apisix/stream_routes/1", "--print-value-only"])
        let stored = try JSONParser.parse(Array(raw.utf8))
        #expect(stored["id"] == "1")
        #expect(stored["create_time"]?.intValue != nil && stored["update_time"]?.intValue != nil)
        #expect(stored["upstream"]?["type"] == "chash")
        // POST: the id is the revision of a put of /apisix/gen_id, 20 digits.
        let posted = try await store.put(.upstreams, id: nil, json: ["nodes": ["127.0.0.1:1883": 1]])
        #expect(posted.object.id.count == 20 && posted.object.id.allSatisfy(\.isNumber))
        #expect(try await etcd.run(["get", "/apisix/upstreams/\(posted.object.id)"]).1.contains("127.0.0.1:1883"))
        // An upstream in use cannot be deleted; the check holds in etcd, not only in this instance.
        try await store.put(.streamRoutes, id: "2", json: ["upstream_id": .string(posted.object.id)])
        await #expect(throws: StoreError.self) { try await store.delete(.upstreams, id: posted.object.id) }
        try await store.delete(.streamRoutes, id: "2")
        try await store.delete(.upstreams, id: posted.object.id)
        #expect(try await etcd.run(["get", "--prefix", "/apisix/upstreams/"]).1.isEmpty)
    }

    @Test func aWriteBetweenTheInitialRangeAndTheWatchIsSeen() async throws {
        let etcd = try await EtcdServer.start()
        defer { etcd.stop() }
        let dir = try TempDirectory()
        defer { dir.remove() }
        let body = #"{"id":"late","plugins":{"mqtt-proxy":{"protocol_level":4}},"upstream":{"nodes":{"127.0.0.9:1883":1}}}"#
        let store = try Self.store(etcd, cache: dir.file("cache.json")) {
            // Lands after the range read, before the watch starts.
            try? await etcd.put("/apisix/stream_routes/late", body)
        }
        try await store.load()
        #expect(await store.snapshot().resources.streamRoutes["late"] == nil)
        let changes = await store.changes()
        let running = Task { await store.run() }
        defer { running.cancel() }
        #expect(await Self.eventually(store, changes) { $0.streamRoutes["late"] != nil })
    }

    @Test func routesWrittenByEtcdctlInAPISIXsLayoutAreReadAndOtherKeysIgnored() async throws {
        let etcd = try await EtcdServer.start()
        defer { etcd.stop() }
        let dir = try TempDirectory()
        defer { dir.remove() }
        // As APISIX's admin API stores the seed's route, plus APISIX's own placeholders and other directories.
        try await etcd.put("/apisix/stream_routes/", "init_dir")
        try await etcd.put("/apisix/routes/1", #"{"uri":"/x","upstream":{"nodes":{"127.0.0.1:80":1}}}"#)
        try await etcd.put("/apisix/stream_routes/1", """
            {"id":"1","create_time":1700000000,"update_time":1700000000,"plugins":{"mqtt-proxy":{"protocol_name":"MQTT",\
            "protocol_level":4}},"upstream":{"type":"chash","key":"mqtt_client_id","nodes":[{"host":"127.0.0.1",\
            "port":1995,"weight":1},{"host":"127.0.0.2","port":1995,"weight":1}]}}
            """)
        let store = try Self.store(etcd, cache: dir.file("cache.json"))
        try await store.load()
        let resources = await store.snapshot().resources
        #expect(Array(resources.streamRoutes.keys) == ["1"])
        #expect(resources.streamRoutes["1"]?.value.upstream?.nodes.count == 2)
        let view = try #require(await store.get(.streamRoutes, id: "1"))
        #expect(view.createdIndex > 0 && view.modifiedIndex == view.createdIndex)
        // A value that is not valid is left out, not fatal.
        let changes = await store.changes()
        let running = Task { await store.run() }
        defer { running.cancel() }
        try await etcd.put("/apisix/stream_routes/bad", #"{"upstream":{"type":"nope"}}"#)
        try await etcd.put("/apisix/stream_routes/good", #"{"upstream":{"nodes":{"127.0.0.3:1883":1}}}"#)
        #expect(await Self.eventually(store, changes) { $0.streamRoutes["good"] != nil })
        #expect(await store.snapshot().resources.streamRoutes["bad"] == nil)
    }

    @Test func compactionWhileWatchingResyncsWithNothingLost() async throws {
        let etcd = try await EtcdServer.start()
        defer { etcd.stop() }
        let dir = try TempDirectory()
        defer { dir.remove() }
        let store = try Self.store(etcd, cache: dir.file("cache.json"))
        try await store.load()
        let changes = await store.changes()
        let running = Task { await store.run() }
        defer { running.cancel() }
        for i in 0..<5 { try await etcd.put("/apisix/upstreams/u\(i)", #"{"nodes":{"127.0.0.1:188\#(i)":1}}"#) }
        #expect(await Self.eventually(store, changes) { $0.upstreams.count == 5 })
        // The watch is cut off while more changes land, and the history before them is compacted away.
        running.cancel()
        _ = await running.value
        for i in 5..<10 { try await etcd.put("/apisix/upstreams/u\(i)", #"{"nodes":{"127.0.0.1:189\#(i)":1}}"#) }
        _ = try await etcd.run(["del", "/apisix/upstreams/u0"])
        try await etcd.compact()
        let resumed = Task { await store.run() }
        defer { resumed.cancel() }
        let again = await store.changes()
        #expect(await Self.eventually(store, again) { $0.upstreams.count == 9 && $0.upstreams["u0"] == nil })
        let inEtcd = try await etcd.run(["get", "--prefix", "/apisix/upstreams/", "--keys-only"]).1
            .split(separator: "\n").filter { !$0.isEmpty }.count
        #expect(inEtcd == 9)
    }

    @Test func etcdDownKeepsTheContentRefusesWritesAndCatchesUpWhenBack() async throws {
        let etcd = try await EtcdServer.start()
        defer { etcd.stop() }
        let dir = try TempDirectory()
        defer { dir.remove() }
        let store = try Self.store(etcd, cache: dir.file("cache.json"))
        try await store.load()
        try await store.put(.streamRoutes, id: "1", json: Self.route)
        let changes = await store.changes()
        let running = Task { await store.run() }
        defer { running.cancel() }
        etcd.kill()
        var refused: StoreError?
        do { try await store.put(.streamRoutes, id: "2", json: Self.route) } catch { refused = error }
        guard case .unavailable = refused else {
            Issue.record("a write while etcd is down should be refused as unavailable, got \(String(describing: refused))")
            return
        }
        #expect(await store.snapshot().resources.streamRoutes["1"] != nil)
        let deadline = Date().addingTimeInterval(10)
        while await store.status().reachable, Date() < deadline { try await Task.sleep(nanoseconds: 50_000_000) }
        #expect(await !store.status().reachable)

        try await etcd.restart()
        try await etcd.put("/apisix/stream_routes/while-away", #"{"upstream":{"nodes":{"127.0.0.5:1883":1}}}"#)
        #expect(await Self.eventually(store, changes, timeout: 15) { $0.streamRoutes["while-away"] != nil })
        #expect(await store.status().reachable)

        // Restarted while etcd is down: the instance starts from its cache.
        running.cancel()
        etcd.kill()
        let restarted = try Self.store(etcd, cache: dir.file("cache.json"))
        try await restarted.load()
        let resources = await restarted.snapshot().resources
        #expect(Set(resources.streamRoutes.keys) == ["1", "while-away"])
        #expect(await restarted.status().fromCache)
        #expect(await !restarted.status().reachable)
    }

    @Test func etcdReplacedByAnEmptyOneIsReadAgainFromScratch() async throws {
        let etcd = try await EtcdServer.start()
        defer { etcd.stop() }
        let dir = try TempDirectory()
        defer { dir.remove() }
        let store = try Self.store(etcd, cache: dir.file("cache.json"))
        try await store.load()
        for i in 0..<20 { try await etcd.put("/apisix/upstreams/old\(i)", #"{"nodes":{"127.0.0.1:1883":1}}"#) }
        let changes = await store.changes()
        let running = Task { await store.run() }
        defer { running.cancel() }
        #expect(await Self.eventually(store, changes) { $0.upstreams.count == 20 })
        // A new, empty etcd on the same address: its revisions start over, below the last one seen.
        try await etcd.restart(wipe: true)
        try await etcd.put("/apisix/upstreams/new", #"{"nodes":{"127.0.0.1:1883":1}}"#)
        #expect(await Self.eventually(store, changes, timeout: 20) { Array($0.upstreams.keys) == ["new"] })
    }
}

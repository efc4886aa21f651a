import Foundation
import ProxyModel
import RouteStore
import Testing

@Suite("File store hot reload")
struct FileReloadTests {
    static let valid = """
        stream_routes:
          - id: 1
            upstream:
              nodes:
                "127.0.0.1:1883": 1
        #END
        """

    @Test func aValidEditIsLoadedAndAnnounced() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        try dir.write("a.yaml", Self.valid)
        let store = FileStore(path: dir.file("a.yaml"))
        try await store.load()
        let events = EventBox()
        await store.subscribe { events.add($0) }
        let before = await store.snapshot().version
        try dir.write("a.yaml", Self.valid.replacingOccurrences(of: "#END", with: """
              - id: 2
                upstream:
                  nodes:
                    "127.0.0.1:1884": 1
            #END
            """))
        #expect(await store.checkFile())
        let snap = await store.snapshot()
        #expect(snap.version > before)
        #expect(Array(snap.resources.streamRoutes.keys) == ["1", "2"])
        #expect(events.kinds == ["reloaded"])
        // Untouched objects keep their indexes.
        #expect(snap.resources.streamRoutes["1"]?.modifiedIndex == 1)
    }

    @Test func anInvalidEditIsRejectedAndThePreviousRoutesStay() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        try dir.write("a.yaml", Self.valid)
        let store = FileStore(path: dir.file("a.yaml"))
        try await store.load()
        let events = EventBox()
        await store.subscribe { events.add($0) }
        try dir.write("a.yaml", Self.valid.replacingOccurrences(of: "127.0.0.1:1883", with: "nohost"))
        #expect(await !store.checkFile())
        #expect(await store.snapshot().resources.streamRoutes["1"]?.value.upstream?.nodes.first?.port == 1883)
        #expect(events.kinds == ["rejected"])
        // A half-written file (no #END) is rejected too.
        try dir.write("a.yaml", "stream_routes: []\n")
        #expect(await !store.checkFile())
        #expect(await store.snapshot().resources.streamRoutes.count == 1)
    }

    @Test func ownWritesAreNotReloaded() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let store = FileStore(path: dir.file("a.yaml"))
        try await store.load()
        _ = try await store.put(.streamRoutes, id: "1", json: seedRoute)
        #expect(await !store.checkFile())
    }

    @Test func invalidFileFailsLoadWithPositions() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        try dir.write("a.yaml", "stream_routes:\n  - id: 1\n    server_port: 0\n    upstream: {nodes: {\"a:1\": 1}}\n#END\n")
        let store = FileStore(path: dir.file("a.yaml"))
        do {
            try await store.load()
            Issue.record("expected a load error")
        } catch {
            #expect(error.problems.count == 1)
            #expect(error.problems[0].position?.line == 3)
        }
    }
}

/// Collects store events for assertions.
final class EventBox: @unchecked Sendable {
    private var events: [StoreEvent] = []
    private let lock = NSLock()
    func add(_ e: StoreEvent) {
        lock.lock()
        events.append(e)
        lock.unlock()
    }
    var kinds: [String] {
        lock.lock()
        defer { lock.unlock() }
        return events.map {
            switch $0 {
            case .changed: return "changed"
            case .reloaded: return "reloaded"
            case .reloadRejected: return "rejected"
            }
        }
    }
}

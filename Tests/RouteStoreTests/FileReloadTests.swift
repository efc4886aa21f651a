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
        let changes = await store.changes()
        var events = changes.updates.makeAsyncIterator()
        let before = changes.initial.revision
        try dir.write("a.yaml", Self.valid.replacingOccurrences(of: "#END", with: """
              - id: 2
                upstream:
                  nodes:
                    "127.0.0.1:1884": 1
            #END
            """))
        #expect(await store.checkFile())
        let snap = await store.snapshot()
        #expect(snap.revision > before)
        #expect(Array(snap.resources.streamRoutes.keys) == ["1", "2"])
        #expect(kind(await events.next()) == "reloaded")
        // Untouched objects keep their indexes.
        #expect(snap.resources.streamRoutes["1"]?.modifiedIndex == 1)
    }

    @Test func anInvalidEditIsRejectedAndThePreviousRoutesStay() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        try dir.write("a.yaml", Self.valid)
        let store = FileStore(path: dir.file("a.yaml"))
        try await store.load()
        var events = await store.changes().updates.makeAsyncIterator()
        try dir.write("a.yaml", Self.valid.replacingOccurrences(of: "127.0.0.1:1883", with: "nohost"))
        #expect(await !store.checkFile())
        #expect(await store.snapshot().resources.streamRoutes["1"]?.value.upstream?.nodes.first?.port == 1883)
        #expect(kind(await events.next()) == "rejected")
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

/// A store event's kind, for assertions.
func kind(_ event: StoreEvent?) -> String {
    switch event {
    case .changed: return "changed"
    case .reloaded: return "reloaded"
    case .reloadRejected: return "rejected"
    case .statusChanged: return "status"
    case nil: return "end"
    }
}

@Suite("Store changes as a sequence")
struct StoreChangesTests {
    @Test("each follower starts from the content it was given and sees every later change, in order")
    func followersSeeEveryChange() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let store = FileStore(path: dir.file("a.yaml"))
        try await store.load()
        _ = try await store.put(.streamRoutes, id: "1", json: seedRoute)
        let early = await store.changes()
        #expect(early.initial.resources.streamRoutes.keys.elementsEqual(["1"]))
        _ = try await store.put(.streamRoutes, id: "2", json: seedRoute)
        let late = await store.changes()
        try await store.delete(.streamRoutes, id: "1")
        var a = early.updates.makeAsyncIterator()
        var b = late.updates.makeAsyncIterator()
        guard case .changed(let first, _, "2", false) = await a.next(),
              case .changed(let second, _, "1", true) = await a.next(),
              case .changed(let seenByLate, _, "1", true) = await b.next()
        else {
            Issue.record("unexpected events")
            return
        }
        #expect(first.revision < second.revision)
        #expect(second.revision == seenByLate.revision)
        #expect(late.initial.resources.streamRoutes.count == 2)
    }

    @Test("run() ends every follower's stream when it is cancelled")
    func runEndsStreams() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let store = FileStore(path: dir.file("a.yaml"), watchInterval: 0.01)
        try await store.load()
        let changes = await store.changes()
        let runner = Task { await store.run() }
        runner.cancel()
        var events = changes.updates.makeAsyncIterator()
        #expect(kind(await events.next()) == "end")
        await runner.value
    }
}

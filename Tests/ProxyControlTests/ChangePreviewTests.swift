import Foundation
import ProxyControl
import ProxyModel
import RouteStore
import Synchronization
import Testing

/// An engine stand-in that records what it was asked to preview and answers with one move per live client.
final class PreviewRecorder: EngineControl {
    let asked = Mutex<[ProxyResources]>([])
    var snapshotVersion: Int { 1 }
    func snapshot() -> EngineSnapshot {
        EngineSnapshot(version: 1, takenAt: 0, startedAt: 0, listeners: [], connections: [], routes: [], nodes: [],
                       events: [], pending: 0, totalAccepted: 0, totalRejected: 0)
    }
    func nextVersion(after version: Int, timeout: Double) async -> Int { version }
    func disconnect(connectionID: UInt64) async -> Bool { false }
    func previewRebalance(proposed: ProxyResources) async -> RebalancePreview {
        asked.withLock { $0.append(proposed) }
        return RebalancePreview(considered: 1, moves: [.init(connectionID: 9, clientID: "c", hashKey: "c", routeID: "1",
                                                             from: "10.0.0.1:1883", to: "10.0.0.2:1883")])
    }
    func note(_ message: String, node: String?) {}
    func drain(node: String, evictPerSecond: Double?, serverReference: String?) async throws(ControlError) -> NodeHealth {
        throw .unknownNode(node)
    }
    func undrain(node: String) async -> Bool { false }
    func previewDrain(node: String) async -> RebalancePreview { RebalancePreview(considered: 0, moves: []) }
    func endAllConnections(timeout: Double) async -> Int { 0 }
}

@Suite("ChangePreview: the one preview of a store change")
struct ChangePreviewTests {
    let route: JSONValue = [
        "plugins": ["mqtt-proxy": ["protocol_level": 4]],
        "upstream": ["type": "chash", "key": "mqtt_client_id", "nodes": ["10.0.0.1:1883": 1, "10.0.0.2:1883": 1]],
    ]

    func store() async throws -> FileStore {
        let store = FileStore(path: NSTemporaryDirectory() + "preview-\(UUID().uuidString).yaml")
        try await store.load()
        return store
    }

    @Test("the store validates, the engine is asked with the content after the change, nothing is written")
    func previews() async throws {
        let store = try await store()
        let engine = PreviewRecorder()
        let preview = try await ChangePreview.make(.streamRoutes, id: "1", body: route, store: store, engine: engine)
        #expect(preview.change.created)
        #expect(preview.rebalance?.moves.count == 1)
        #expect(engine.asked.withLock { $0.first?.streamRoutes["1"] != nil })
        #expect(await store.get(.streamRoutes, id: "1") == nil)
    }

    @Test("without an engine there is no rebalance; an invalid body is the store's 400")
    func noEngineAndInvalid() async throws {
        let store = try await store()
        let preview = try await ChangePreview.make(.streamRoutes, id: "1", body: route, store: store, engine: nil)
        #expect(preview.rebalance == nil)
        await #expect(throws: StoreError.self) {
            try await ChangePreview.make(.streamRoutes, id: "1", body: ["upstream": ["type": "nope"]], store: store,
                                         engine: nil)
        }
    }
}

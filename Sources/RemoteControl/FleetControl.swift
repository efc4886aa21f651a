import Foundation
import NIOHTTP1
import ProxyControl
import ProxyModel
import RouteStore
import Synchronization

/// The engine control protocol over running instances (`console --attach`): one instance or several, their pictures
/// merged into one snapshot (connections tagged with their instance, counters summed, health combined), and each
/// action sent to the admin API of the instances it concerns. No engine runs in this process.
///
/// Connection ids in the merged snapshot carry the instance's position in their top 16 bits, so a disconnect finds
/// its way back; route edits go through the store (one instance's admin API, and through etcd to the rest).
public final class FleetControl: EngineControl, Sendable {
    private let key: String?
    private let members = Mutex<[RemoteInstance]>([])
    private let version = Atomic<Int>(1)
    private let notes = Mutex<[EngineEvent]>([])
    private let cache = Mutex<EngineSnapshot?>(nil)
    private let startedAt = Date().timeIntervalSince1970
    static let idShift: UInt64 = 48

    /// Follows the instances at `urls` (`http://host:9180` or `host:9180`) with the admin key `key`.
    public init(urls: [String], key: String?) {
        self.key = key
        for url in urls { _ = add(url: url) }
    }

    /// The instances followed, in the order they were added.
    public var instances: [RemoteInstance] { members.withLock { $0 } }

    /// Follows one more instance (a new fleet member); returns nil when it is followed already.
    @discardableResult
    public func add(url: String) -> RemoteInstance? {
        let normalized = AdminClient(baseURL: url, key: nil).baseURL
        let instance = members.withLock { list -> RemoteInstance? in
            guard !list.contains(where: { $0.client.baseURL == normalized }) else { return nil }
            let made = RemoteInstance(url: url, key: key) { [weak self] in self?.bump() }
            list.append(made)
            return made
        }
        if instance != nil { bump() }
        return instance
    }

    private func bump() { version.add(1, ordering: .relaxed) }

    public var snapshotVersion: Int { version.load(ordering: .relaxed) }

    /// The merged picture; merged again only when an instance's copy changed since the last call (a console asks
    /// every frame, and a merge walks every connection of every instance).
    public func snapshot() -> EngineSnapshot {
        let version = snapshotVersion
        if let cached = cache.withLock({ $0 }), cached.version == version { return cached }
        let parts = instances.map { FleetMerge.Part(status: $0.status(), snapshot: $0.snapshot()) }
        var merged = FleetMerge.merge(parts, version: version, startedAt: startedAt)
        let local = notes.withLock { $0 }
        if !local.isEmpty { merged.events = (merged.events + local).sorted { $0.time < $1.time } }
        cache.withLock { $0 = merged }
        return merged
    }

    public func nextVersion(after version: Int, timeout: Double) async -> Int {
        let deadline = Date().addingTimeInterval(timeout)
        while snapshotVersion == version, Date() < deadline, !Task.isCancelled {
            try? await Task.sleep(nanoseconds: 50_000_000)
        }
        return snapshotVersion
    }

    /// The instance and its own id for a merged connection id.
    func locate(_ connectionID: UInt64) -> (RemoteInstance, UInt64)? {
        let index = Int(connectionID >> Self.idShift)
        let list = instances
        guard list.indices.contains(index) else { return nil }
        return (list[index], connectionID & ((1 << Self.idShift) - 1))
    }

    public func disconnect(connectionID: UInt64) async -> Bool {
        guard let (instance, id) = locate(connectionID) else { return false }
        do throws(AdminClientError) {
            _ = try await instance.client.call(.DELETE, "/v1/connections/\(id)")
            return true
        } catch {
            return false
        }
    }

    /// A merged picture has no ring of its own: the moves come from the instances' dry runs (`previewChange`).
    public func previewRebalance(proposed: ProxyResources) async -> RebalancePreview {
        RebalancePreview(considered: 0, moves: [])
    }

    /// The store validates the change; every reachable instance then says, through a dry run of the same put, which
    /// of its clients would move.
    public func previewChange(_ kind: ResourceKind, id: String?, body: JSONValue, store: any RouteStore) async
        throws(StoreError) -> ChangePreview
    {
        let change = try await store.prepare(kind, id: id, json: body)
        var considered = 0
        var moves: [RebalancePreview.Move] = []
        let path = "/apisix/admin/\(kind.rawValue)/\(change.id)?dry_run=true"
        for (index, instance) in instances.enumerated() where instance.status().reachable {
            guard let answer = try? await instance.client.call(.PUT, path, body: body).body,
                  let preview = answer["rebalance"].flatMap(SnapshotJSON.decodeRebalance)
            else { continue }
            considered += preview.considered
            moves += Self.tagged(preview.moves, index: index)
        }
        return ChangePreview(change: change, rebalance: RebalancePreview(considered: considered, moves: moves))
    }

    public func note(_ message: String, node: String?) {
        notes.withLock { list in
            list.append(EngineEvent(sequence: list.count + 1, time: Date().timeIntervalSince1970, kind: .note,
                                    routeID: nil, clientID: nil, remote: nil, node: node, message: message))
            if list.count > 200 { list.removeFirst() }
        }
        bump()
    }

    /// Drains the node on every instance that routes to it (the drain is each instance's own).
    public func drain(node: String, evictPerSecond: Double?, serverReference: String?) async throws(ControlError)
        -> NodeHealth
    {
        var body: JSONValue = [:]
        if let evictPerSecond { body["evict_per_second"] = .double(evictPerSecond) }
        if let serverReference { body["server_reference"] = .string(serverReference) }
        var result: NodeHealth?
        var problems: [String] = []
        for instance in concerned(node) {
            do throws(AdminClientError) {
                let answer = try await instance.client.call(.POST, "/v1/nodes/\(Self.escape(node))/drain", body: body)
                result = result ?? answer.body["node"].flatMap(SnapshotJSON.decodeHealth)
            } catch {
                if case .refused(400, let message) = error { throw .invalid(message) }
                problems.append("\(instance.name): \(error)")
            }
        }
        if let result { return result }
        if problems.isEmpty { throw .unknownNode(node) }
        throw .unreachable(problems.joined(separator: "; "))
    }

    public func undrain(node: String) async -> Bool {
        var ended = false
        for instance in concerned(node) {
            if (try? await instance.client.call(.DELETE, "/v1/nodes/\(Self.escape(node))/drain")) != nil { ended = true }
        }
        return ended
    }

    public func previewDrain(node: String) async -> RebalancePreview {
        var considered = 0
        var moves: [RebalancePreview.Move] = []
        for (index, instance) in instances.enumerated() where instance.status().reachable {
            guard let answer = try? await instance.client.call(.POST, "/v1/nodes/\(Self.escape(node))/drain?dry_run=true",
                                                                body: [:]).body,
                  let preview = answer["rebalance"].flatMap(SnapshotJSON.decodeRebalance)
            else { continue }
            considered += preview.considered
            moves += Self.tagged(preview.moves, index: index)
        }
        return RebalancePreview(considered: considered, moves: moves)
    }

    /// An attached console leaves the instances and their clients alone when it quits.
    public func endAllConnections(timeout: Double) async -> Int { 0 }

    /// The reachable instances whose routes list `node`.
    private func concerned(_ node: String) -> [RemoteInstance] {
        instances.filter { instance in
            instance.status().reachable && (instance.snapshot()?.health.contains { $0.node == node } ?? false)
        }
    }

    static func tagged(_ moves: [RebalancePreview.Move], index: Int) -> [RebalancePreview.Move] {
        moves.map { m in
            var m = m
            m.connectionID |= UInt64(index) << idShift
            return m
        }
    }

    static func escape(_ node: String) -> String {
        node.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: ".:-"))) ?? node
    }
}

import Foundation
import NIOHTTP1
import ProxyModel

/// The routes of a running instance, read and written through its admin API: what an attached console edits.
///
/// Reads come from a copy of the instance's stream routes, upstreams and ssl objects, fetched again whenever the
/// revision its `/v1/store` reports moves (`run()` looks every `pollInterval` seconds; an answer is ~300 bytes).
/// Writes are the admin API's own PUT and DELETE, validated there; `prepare` validates against the copy, as the
/// instance would, for previews. With etcd behind the instances, one write reaches every one of them, and when the
/// instance in use stops answering the next one of `clients` is used instead (they share one store). Without etcd
/// each instance has its own store, so the store stays with the first.
public actor AdminAPIStore: RouteStore {
    /// The instances it can go through, the first preferred.
    public nonisolated let clients: [AdminClient]
    public nonisolated var location: String {
        "admin API \(clients[0].baseURL)" + (clients.count > 1 ? " (+\(clients.count - 1))" : "")
    }
    private var current = 0
    private let pollInterval: Double
    private var resources = ProxyResources()
    private var revision = 0
    private var remoteRevision: Int?
    private var currentStatus: StoreStatus
    private var followers: [Int: AsyncStream<StoreEvent>.Continuation] = [:]
    private var nextFollower = 0

    public init(client: AdminClient, pollInterval: Double = 1) {
        self.init(clients: [client], pollInterval: pollInterval)
    }

    /// A store over the first of `clients`, moving to the next when it stops answering and the routes are in etcd.
    public init(clients: [AdminClient], pollInterval: Double = 1) {
        precondition(!clients.isEmpty, "an admin API store needs an instance")
        self.clients = clients
        self.pollInterval = pollInterval
        currentStatus = StoreStatus(provider: "admin", location: clients[0].baseURL, reachable: false,
                                    since: Date().timeIntervalSince1970, lastError: "not read yet")
    }

    /// Reads every object once; an instance that does not answer (or refuses the key) is a load error.
    public func load() async throws(StoreLoadError) {
        do throws(AdminClientError) {
            try await refresh(force: true)
        } catch {
            throw StoreLoadError(problems: [
                SourceError(file: clients[current].baseURL, position: nil, message: error.description),
            ])
        }
    }

    public func snapshot() -> StoreSnapshot { StoreSnapshot(revision: revision, resources: resources) }

    public func changes() -> StoreChanges {
        let (stream, continuation) = AsyncStream<StoreEvent>.makeStream()
        let id = nextFollower
        nextFollower += 1
        followers[id] = continuation
        continuation.onTermination = { [weak self] _ in Task { await self?.unfollow(id) } }
        return StoreChanges(initial: snapshot(), updates: stream)
    }

    private func unfollow(_ id: Int) { followers[id] = nil }

    public func get(_ kind: ResourceKind, id: String) -> StoredObjectView? { StoreContent.view(kind, id, in: resources) }

    public func list(_ kind: ResourceKind) -> [StoredObjectView] { StoreContent.list(kind, in: resources) }

    public func put(_ kind: ResourceKind, id: String?, json: JSONValue) async throws(StoreError) -> PutResult {
        let path = "/apisix/admin/\(kind.rawValue)" + (id.map { "/\(Self.escape($0))" } ?? "")
        let answer = try await send(id == nil ? .POST : .PUT, path, body: json)
        let value = answer.body["value"] ?? json
        let storedID = value["id"]?.stringValue ?? id ?? "?"
        try? await refresh(force: true)
        let view = StoreContent.view(kind, storedID, in: resources)
            ?? StoredObjectView(kind: kind, id: storedID, value: value, createdIndex: 0, modifiedIndex: 0)
        return PutResult(created: answer.status == 201, object: view)
    }

    public func prepare(_ kind: ResourceKind, id: String?, json: JSONValue) throws(StoreError) -> PreparedChange {
        try StoreContent.prepare(kind, id: id, json: json, resources: resources, now: Int(Date().timeIntervalSince1970),
                                 index: revision + 1) { "00000000000000000001" }
    }

    public func delete(_ kind: ResourceKind, id: String, force: Bool) async throws(StoreError) -> StoredObjectView {
        let existing = StoreContent.view(kind, id, in: resources)
        let path = "/apisix/admin/\(kind.rawValue)/\(Self.escape(id))" + (force ? "?force=true" : "")
        _ = try await send(.DELETE, path, body: nil, missing: (kind, id))
        try? await refresh(force: true)
        return existing ?? StoredObjectView(kind: kind, id: id, value: .null, createdIndex: 0, modifiedIndex: 0)
    }

    public func status() -> StoreStatus { currentStatus }

    /// Follows the instance's store until cancelled.
    public func run() async {
        while !Task.isCancelled {
            try? await Task.sleep(nanoseconds: UInt64(pollInterval * 1e9))
            guard !Task.isCancelled else { break }
            do throws(AdminClientError) {
                try await refresh(force: false)
            } catch {
                setStatus(reachable: false, error: error.description)
            }
        }
        for continuation in followers.values { continuation.finish() }
    }

    /// Reads the objects again when the instance's store revision moved (or always, with `force`).
    private func refresh(force: Bool) async throws(AdminClientError) {
        let store = try await call(.GET, "/v1/store").body
        let remote = store["revision"]?.intValue
        setStatus(reachable: true, error: nil, source: store)
        guard force || remote != remoteRevision else { return }
        var next = ProxyResources()
        for kind in ResourceKind.allCases {
            let listing = try await call(.GET, "/apisix/admin/\(kind.rawValue)").body
            for item in listing["list"]?.arrayValue ?? [] {
                guard let value = item["value"], let id = Self.id(of: value) else { continue }
                _ = try? next.put(kind: kind, id: id, json: value, index: item["modifiedIndex"]?.intValue ?? 0)
            }
        }
        remoteRevision = remote
        resources = next
        revision += 1
        let snapshot = snapshot()
        for continuation in followers.values { continuation.yield(.reloaded(snapshot)) }
    }

    private func setStatus(reachable: Bool, error: String?, source: JSONValue? = nil) {
        var next = currentStatus
        if next.reachable != reachable { next.since = Date().timeIntervalSince1970 }
        next.reachable = reachable
        next.lastError = error
        if let source {
            next.provider = source["provider"]?.stringValue ?? "admin"
            next.location = source["location"]?.stringValue ?? clients[current].baseURL
            next.sourceRevision = source["source_revision"]?.intValue ?? source["revision"]?.intValue
            next.fromCache = source["from_cache"]?.boolValue ?? false
            if source["reachable"]?.boolValue == false {
                next.reachable = false
                next.lastError = source["last_error"]?.stringValue
            }
        }
        guard next != currentStatus else { return }
        currentStatus = next
        for continuation in followers.values { continuation.yield(.statusChanged(next)) }
    }

    private func send(_ method: HTTPMethod, _ path: String, body: JSONValue?,
                      missing: (ResourceKind, String)? = nil) async throws(StoreError) -> (status: Int, body: JSONValue)
    {
        do throws(AdminClientError) {
            return try await call(method, path, body: body)
        } catch {
            switch error {
            case .refused(let status, let message) where status == 404:
                if let (kind, id) = missing { throw .notFound(kind: kind, id: id) }
                throw .unavailable("\(clients[current].baseURL): \(message)")
            case .refused(_, let message) where message.hasPrefix("can not delete"):
                throw .conflict(message)
            case .refused(let status, let message) where status == 400:
                throw .invalid(ValidationError(field: "", message))
            case .refused(let status, let message):
                throw .unavailable("\(clients[current].baseURL) answered \(status): \(message)")
            case .unreachable(let message), .silent(let message), .malformed(let message):
                throw .unavailable(message)
            }
        }
    }

    /// Calls the instance in use; when it does not answer and the instances share their routes through etcd, the
    /// next ones in turn (each once), keeping the first that answers.
    private func call(_ method: HTTPMethod, _ path: String, body: JSONValue? = nil) async throws(AdminClientError)
        -> (status: Int, body: JSONValue)
    {
        var tried = 0
        while true {
            // The actor lets other calls in while this one waits: one of them may move on first, so only the
            // instance this call used is moved away from.
            let used = current
            do throws(AdminClientError) {
                return try await clients[used].call(method, path, body: body)
            } catch {
                tried += 1
                let unreachable = switch error {
                case .unreachable, .silent: true
                case .refused, .malformed: false
                }
                guard unreachable, currentStatus.provider == "etcd", tried < clients.count else { throw error }
                if current == used { current = (used + 1) % clients.count }
            }
        }
    }

    /// An object's id: a string, or an integer as APISIX allows.
    private static func id(of value: JSONValue) -> String? {
        if let text = value["id"]?.stringValue { return text }
        if let number = value["id"]?.intValue { return String(number) }
        return nil
    }

    private static func escape(_ id: String) -> String {
        id.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? id
    }
}

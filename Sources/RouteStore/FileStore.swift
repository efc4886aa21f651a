import Logging
import ProxyModel

#if canImport(Glibc)
import Glibc
#endif

/// The embedded store: one APISIX standalone YAML file, written atomically, reloaded when edited by hand.
///
/// All writes go through this actor, so concurrent writers are serialised and none is lost.
public actor FileStore: RouteStore {
    public nonisolated let path: String
    public nonisolated var location: String { path }
    private let logger: Logger
    private var resources = ProxyResources()
    private var revision = 0
    private var index = 0
    private var lastText: String?
    private var lastFingerprint: [Int]?
    private var followers: [Int: AsyncStream<StoreEvent>.Continuation] = [:]
    private var nextFollower = 0
    private let clock: @Sendable () -> Int
    private let watchInterval: Double
    private let started = Double(time(nil))

    /// Opens the store at `path` (not read until `load()`); `clock` gives unix seconds for timestamps, and
    /// `run()` looks at the file for hand edits every `watchInterval` seconds.
    public init(path: String, logger: Logger = Logger(label: "mqtt-proxy.store"), watchInterval: Double = 1,
                clock: @escaping @Sendable () -> Int = { Int(time(nil)) })
    {
        self.path = path
        self.logger = logger
        self.clock = clock
        self.watchInterval = watchInterval
    }

    /// Reads the file. A missing file starts an empty store; an invalid one throws every problem found.
    public func load() throws(StoreLoadError) {
        guard AtomicFile.exists(path) else {
            logger.notice("store file \(path) does not exist; starting empty")
            resources = ProxyResources()
            revision += 1
            return
        }
        let text: String
        do { text = try AtomicFile.read(path) } catch {
            throw StoreLoadError(problems: [SourceError(file: path, position: nil, message: error.description)])
        }
        let (decoded, problems) = StandaloneFormat.decode(text: text, file: path)
        guard problems.isEmpty else { throw StoreLoadError(problems: problems) }
        adopt(decoded)
        lastText = text
        lastFingerprint = AtomicFile.fingerprint(path)
        revision += 1
    }

    /// A file is always there (a failed read or write is reported on the request that met it).
    public func status() -> StoreStatus {
        StoreStatus(provider: "file", location: path, reachable: true, since: started, sourceRevision: revision)
    }

    /// The current content and revision.
    public func snapshot() -> StoreSnapshot { StoreSnapshot(revision: revision, resources: resources) }

    /// The current content and a stream of every later change, for one consumer.
    public func changes() -> StoreChanges {
        nextFollower += 1
        let token = nextFollower
        let (stream, continuation) = AsyncStream<StoreEvent>.makeStream(bufferingPolicy: .unbounded)
        continuation.onTermination = { [weak self] _ in
            Task { await self?.unfollow(token) }
        }
        followers[token] = continuation
        return StoreChanges(initial: snapshot(), updates: stream)
    }

    private func unfollow(_ token: Int) { followers[token] = nil }

    /// One object as stored, or nil.
    public func get(_ kind: ResourceKind, id: String) -> StoredObjectView? {
        StoreContent.view(kind, id, in: resources)
    }

    /// Every object of `kind`, in store order.
    public func list(_ kind: ResourceKind) -> [StoredObjectView] { StoreContent.list(kind, in: resources) }

    /// Validates, stores and persists an object; `id` nil takes the id from the body or generates one.
    @discardableResult
    public func put(_ kind: ResourceKind, id: String?, json: JSONValue) throws(StoreError) -> PutResult {
        let change = try prepare(kind, id: id, json: json)
        index += 1
        try commit(change.resources, kind: kind, id: change.id, deleted: false)
        return PutResult(created: change.created, object: StoreContent.view(kind, change.id, in: resources)!)
    }

    /// What a put would do, without doing it: the resulting content, the id, whether it creates, and the
    /// stored form of the object.
    public func prepare(_ kind: ResourceKind, id: String?, json: JSONValue) throws(StoreError) -> PreparedChange {
        let number = UInt64(clock()) * 1_000_000 + UInt64(index + 1)
        return try StoreContent.prepare(kind, id: id, json: json, resources: resources, now: clock(), index: index + 1) {
            StoreContent.paddedID(number)
        }
    }

    /// Removes an object. Deleting an upstream a stream route uses is refused unless `force`.
    @discardableResult
    public func delete(_ kind: ResourceKind, id: String, force: Bool = false) throws(StoreError) -> StoredObjectView {
        guard let old = StoreContent.view(kind, id, in: resources) else { throw .notFound(kind: kind, id: id) }
        try StoreContent.checkDelete(kind, id: id, force: force, in: resources)
        var updated = resources
        updated.remove(kind: kind, id: id)
        index += 1
        try commit(updated, kind: kind, id: id, deleted: true)
        return old
    }

    /// Checks the file for hand edits every `watchInterval` seconds until the task is cancelled; then ends the
    /// followers' streams.
    public func run() async {
        while !Task.isCancelled {
            try? await Task.sleep(nanoseconds: UInt64(watchInterval * 1_000_000_000))
            if Task.isCancelled { break }
            checkFile()
        }
        for follower in followers.values { follower.finish() }
        followers = [:]
    }

    /// Looks at the file once and reloads it if its content changed; returns true when a reload was applied.
    @discardableResult
    public func checkFile() -> Bool {
        let fp = AtomicFile.fingerprint(path)
        guard fp != lastFingerprint else { return false }
        lastFingerprint = fp
        guard fp != nil, let text = try? AtomicFile.read(path), text != lastText else { return false }
        lastText = text
        let (decoded, problems) = StandaloneFormat.decode(text: text, file: path)
        guard problems.isEmpty else {
            for p in problems { logger.error("store reload rejected, previous routes stay live: \(p)") }
            notify(.reloadRejected(problems))
            return false
        }
        adopt(decoded)
        revision += 1
        logger.notice("""
            store reloaded from \(path): \(resources.streamRoutes.count) stream routes, \
            \(resources.upstreams.count) upstreams, \(resources.ssls.count) ssls
            """)
        notify(.reloaded(snapshot()))
        return true
    }

    // MARK: - Private

    private func commit(_ updated: ProxyResources, kind: ResourceKind, id: String, deleted: Bool) throws(StoreError) {
        let text = StandaloneFormat.encode(updated)
        try AtomicFile.write(text, to: path)
        lastText = text
        lastFingerprint = AtomicFile.fingerprint(path)
        resources = updated
        revision += 1
        notify(.changed(snapshot(), kind: kind, id: id, deleted: deleted))
    }

    /// Takes decoded file content, keeping the indexes of objects that did not change.
    private func adopt(_ decoded: ProxyResources) {
        var next = decoded
        func carry<V: Sendable & Hashable>(_ old: inout StoredObjects<V>, _ new: inout StoredObjects<V>) {
            for key in new.keys {
                if let prev = old[key], prev.raw == new[key]!.raw {
                    new[key]!.createdIndex = prev.createdIndex
                    new[key]!.modifiedIndex = prev.modifiedIndex
                } else {
                    index += 1
                    new[key]!.createdIndex = old[key]?.createdIndex ?? index
                    new[key]!.modifiedIndex = index
                }
            }
        }
        carry(&resources.streamRoutes, &next.streamRoutes)
        carry(&resources.upstreams, &next.upstreams)
        carry(&resources.ssls, &next.ssls)
        resources = next
    }

    private func notify(_ event: StoreEvent) {
        for follower in followers.values { follower.yield(event) }
    }
}

/// A validated change not yet applied (used for `?dry_run=true` and the console's preview).
public struct PreparedChange: Sendable {
    public var id: String
    public var created: Bool
    /// The store content after the change.
    public var resources: ProxyResources
    /// The object as it would be stored.
    public var value: JSONValue
    /// The object as it is stored now, if any.
    public var previous: JSONValue?
}

/// The store file could not be loaded; every problem carries its file and position.
public struct StoreLoadError: Error, Sendable, CustomStringConvertible {
    public var problems: [SourceError]
    public var description: String { problems.map(\.description).joined(separator: "\n") }
}

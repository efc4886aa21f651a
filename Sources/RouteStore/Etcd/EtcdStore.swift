import Foundation
import Logging
import NIOCore
import ProxyModel

/// The distributed store: etcd, in APISIX's key layout, so several instances (and APISIX itself) share one
/// configuration. Each value is the resource's JSON object as the admin API shows it under `value`;
/// `createdIndex`/`modifiedIndex` are etcd's create and mod revisions.
///
/// Start: one range read at revision R, then a watch from R+1, so a write between the two is never lost. A watch
/// cancelled for compaction, or a revision lower than the last seen (etcd restored or replaced), reloads
/// everything; a broken watch reconnects with backoff from the last revision seen, trying the endpoints in turn.
/// While etcd cannot be reached the last good content stays live (and is cached in a local file, which a start
/// without etcd reads), and writes answer `unavailable`.
public actor EtcdStore: RouteStore {
    public nonisolated let location: String
    let client: EtcdClient
    let keys: EtcdKeys
    let config: EtcdConfig
    let cache: EtcdCache
    let logger: Logger
    let clock: @Sendable () -> Int
    /// Called once between the initial range read and the first watch (tests make a write land there).
    let afterInitialRange: (@Sendable () async -> Void)?

    var resources = ProxyResources()
    /// Counts applied changes (what `StoreSnapshot.revision` orders by; it never goes back, whatever etcd does).
    var changeCount = 0
    /// The etcd revision the content is at: the watch resumes after it.
    var sourceRevision = 0
    var currentStatus: StoreStatus
    private var followers: [Int: AsyncStream<StoreEvent>.Continuation] = [:]
    private var nextFollower = 0

    /// A store on `config` (not read until `load()`); `trustedCA` checks an https etcd.
    public init(config: EtcdConfig, trustedCA: String? = nil, logger: Logger = Logger(label: "mqtt-proxy.etcd"),
                clock: @escaping @Sendable () -> Int = { Int(Date().timeIntervalSince1970) },
                afterInitialRange: (@Sendable () async -> Void)? = nil) throws
    {
        self.config = config
        keys = EtcdKeys(prefix: config.normalizedPrefix)
        location = "etcd \(config.hosts.joined(separator: ",")) \(config.normalizedPrefix)"
        client = try EtcdClient(config: config, trustedCA: trustedCA, logger: logger)
        cache = EtcdCache(path: config.cachePath)
        self.logger = logger
        self.clock = clock
        self.afterInitialRange = afterInitialRange
        currentStatus = StoreStatus(provider: "etcd", location: location, reachable: false,
                                    since: Date().timeIntervalSince1970)
    }

    // MARK: - RouteStore

    /// Reads everything under the prefix; when etcd cannot be reached, the cached content (if any) instead.
    public func load() async throws(StoreLoadError) {
        do {
            try await reload()
        } catch {
            guard let cached = cache.read() else {
                throw StoreLoadError(problems: [SourceError(file: location, position: nil, message: """
                    \(error); no cached configuration at \(cache.path) to start from (start once with etcd up)
                    """)])
            }
            adopt(cached.kvs, revision: cached.revision)
            logger.warning("\(error): starting from the configuration cached at revision \(cached.revision)")
            setStatus(reachable: false, error: error.description, fromCache: true)
        }
    }

    public func snapshot() -> StoreSnapshot { StoreSnapshot(revision: changeCount, resources: resources) }

    public func status() -> StoreStatus { currentStatus }

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

    public func get(_ kind: ResourceKind, id: String) -> StoredObjectView? {
        StoreContent.view(kind, id, in: resources)
    }

    public func list(_ kind: ResourceKind) -> [StoredObjectView] { StoreContent.list(kind, in: resources) }

    /// Follows etcd until cancelled: watches from the last revision seen, reloads after a compaction or a
    /// restore, and reconnects with backoff when the stream breaks.
    public func run() async {
        var failures = 0
        var needsReload = currentStatus.fromCache || sourceRevision == 0
        if let hook = afterInitialRange { await hook() }
        while !Task.isCancelled {
            do throws(EtcdError) {
                if needsReload {
                    try await reload()
                    needsReload = false
                }
                let from = sourceRevision + 1
                try await client.watch(prefix: keys.prefix + "/", from: from,
                                       maxDuration: .nanoseconds(Int64(config.watchTimeout * 1e9))) { message in
                    await self.apply(message)
                }
                failures = 0
                if restartRequested {
                    restartRequested = false
                    needsReload = true
                }
            } catch {
                if Task.isCancelled { break }
                if case .compacted(let revision) = error {
                    logger.notice("etcd compacted up to revision \(revision): reloading everything")
                    needsReload = true
                    continue
                }
                failures += 1
                setStatus(reachable: false, error: error.description, fromCache: currentStatus.fromCache)
                let delay = min(config.resyncDelay * Double(1 << min(failures - 1, 4)), 60) * Double.random(in: 0.5...1)
                logger.warning("etcd watch failed (\(error)); again in \(String(format: "%.1f", delay)) s")
                try? await Task.sleep(nanoseconds: UInt64(delay * 1e9))
            }
        }
        for follower in followers.values { follower.finish() }
        followers = [:]
    }

    /// Set by `apply` when etcd's revision went backwards: the watch ends and everything is read again.
    var restartRequested = false

    // MARK: - Applying etcd's content

    /// Reads everything again and makes it the content (notifying followers when it changed).
    func reload() async throws(EtcdError) {
        let (revision, kvs) = try await client.range(prefix: keys.prefix + "/")
        let before = resources
        adopt(kvs, revision: revision)
        setStatus(reachable: true, error: nil, fromCache: false)
        writeCache()
        if resources != before || changeCount == 0 {
            changeCount += 1
            notify(.reloaded(snapshot()))
        }
        logger.notice("""
            etcd content at revision \(revision): \(resources.streamRoutes.count) stream route(s), \
            \(resources.upstreams.count) upstream(s), \(resources.ssls.count) ssl(s)
            """)
    }

    /// Replaces the content with `kvs` (in key order, as etcd returns them); invalid values are left out, logged.
    func adopt(_ kvs: [EtcdKV], revision: Int) {
        var next = ProxyResources()
        var problems: [SourceError] = []
        for kv in kvs {
            guard let (kind, id) = keys.parse(kv.key) else { continue }
            if let problem = Self.put(kv, kind: kind, id: id, into: &next) { problems.append(problem) }
        }
        for problem in problems { logger.error("etcd: \(problem)") }
        if !problems.isEmpty { notify(.reloadRejected(problems)) }
        resources = next
        sourceRevision = revision
    }

    /// Puts one kv into `resources`; a value that is not a valid object is left out and its problem returned
    /// (a placeholder that is not a JSON object, such as APISIX's `init_dir`, is skipped without one).
    static func put(_ kv: EtcdKV, kind: ResourceKind, id: String, into resources: inout ProxyResources) -> SourceError? {
        guard let json = try? JSONParser.parse(kv.value), case .object = json else { return nil }
        do {
            try resources.put(kind: kind, id: id, json: json, index: kv.modRevision)
        } catch {
            return SourceError(file: kv.key, position: nil, message: "\(error.message) (left out)")
        }
        switch kind {
        case .streamRoutes: resources.streamRoutes[id]?.createdIndex = kv.createRevision
        case .upstreams: resources.upstreams[id]?.createdIndex = kv.createRevision
        case .ssls: resources.ssls[id]?.createdIndex = kv.createRevision
        }
        return nil
    }

    /// One watch message: its events in order; a revision lower than the last seen means etcd was restored or
    /// replaced, and everything is read again.
    /// Returns false when the watch must end (everything is read again).
    func apply(_ message: EtcdWatchMessage) -> Bool {
        if !currentStatus.reachable { setStatus(reachable: true, error: nil, fromCache: false) }
        if let revision = message.revision, revision < sourceRevision {
            logger.warning("etcd revision went back from \(sourceRevision) to \(revision) (restored or replaced): reloading")
            restartRequested = true
            return false
        }
        guard !message.events.isEmpty else { return true }
        for event in message.events {
            sourceRevision = max(sourceRevision, event.kv.modRevision)
            guard let (kind, id) = keys.parse(event.kv.key) else { continue }
            // Our own writes are applied when they are made; the watch then brings them again.
            if let known = StoreContent.view(kind, id, in: resources)?.modifiedIndex, event.kind == .put,
               known >= event.kv.modRevision
            {
                continue
            }
            switch event.kind {
            case .put:
                if let problem = Self.put(event.kv, kind: kind, id: id, into: &resources) {
                    logger.error("etcd: \(problem)")
                    notify(.reloadRejected([problem]))
                    continue
                }
            case .delete:
                guard resources.remove(kind: kind, id: id) else { continue }
            }
            changeCount += 1
            notify(.changed(snapshot(), kind: kind, id: id, deleted: event.kind == .delete))
        }
        // Only events move the revision: a message's header may be ahead of events still to come (a watch catching
        // up), and resuming after it would lose them.
        currentStatus.sourceRevision = sourceRevision
        writeCache()
        return true
    }

    func notify(_ event: StoreEvent) {
        for follower in followers.values { follower.yield(event) }
    }

    func setStatus(reachable: Bool, error: String?, fromCache: Bool) {
        let changed = currentStatus.reachable != reachable
        currentStatus.reachable = reachable
        currentStatus.lastError = error
        currentStatus.fromCache = fromCache
        currentStatus.sourceRevision = sourceRevision
        if changed {
            currentStatus.since = Date().timeIntervalSince1970
            notify(.statusChanged(currentStatus))
        }
    }

    /// Writes the content to the cache file (a failure is logged: routing does not depend on it).
    func writeCache() {
        var kvs: [EtcdKV] = []
        for kind in ResourceKind.allCases {
            for view in StoreContent.list(kind, in: resources) {
                kvs.append(EtcdKV(key: keys.key(kind, view.id), value: Array(view.value.jsonText.utf8),
                                  createRevision: view.createdIndex, modRevision: view.modifiedIndex))
            }
        }
        do { try cache.write(.init(revision: sourceRevision, kvs: kvs)) } catch {
            logger.warning("etcd cache \(cache.path) not written: \(error)")
        }
    }
}

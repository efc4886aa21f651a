import Logging
import ProxyModel
import ServiceLifecycle

/// Where stream routes, upstreams and ssl objects live: the one door every change goes through.
///
/// The admin API and the console write through it; the engine, the console and the demo read its snapshots and
/// follow its changes. Every write is validated the same way whatever the implementation (an APISIX standalone
/// file, etcd), and each accepted change raises the revision.
public protocol RouteStore: Sendable {
    /// Where the content comes from, for logs and headers (`conf/apisix.yaml`, `etcd http://…/apisix`).
    var location: String { get }

    /// Reads the content from its source for the first time; throws every problem found.
    func load() async throws(StoreLoadError)

    /// The current content and its revision.
    func snapshot() async -> StoreSnapshot

    /// The current content, and every change after it, for one consumer. Nothing happens between the two: the
    /// first update is the first change after `initial`. Iterate `updates` in a task of your own; the stream ends
    /// when that task is cancelled or the store stops.
    func changes() async -> StoreChanges

    /// One object as stored, or nil.
    func get(_ kind: ResourceKind, id: String) async -> StoredObjectView?

    /// Every object of `kind`, in store order.
    func list(_ kind: ResourceKind) async -> [StoredObjectView]

    /// Validates, stores and persists an object; `id` nil takes the id from the body or generates one.
    @discardableResult
    func put(_ kind: ResourceKind, id: String?, json: JSONValue) async throws(StoreError) -> PutResult

    /// What a put would do, without doing it (dry runs and rebalance previews).
    func prepare(_ kind: ResourceKind, id: String?, json: JSONValue) async throws(StoreError) -> PreparedChange

    /// Removes an object. Deleting an upstream a stream route uses is refused unless `force`.
    @discardableResult
    func delete(_ kind: ResourceKind, id: String, force: Bool) async throws(StoreError) -> StoredObjectView

    /// Whether the source answers now.
    func status() async -> StoreStatus

    /// Keeps the content in step with its source (a file edited by hand, an etcd watch) until the task is
    /// cancelled.
    func run() async
}

extension RouteStore {
    /// Removes an object, refusing to delete an upstream still in use.
    @discardableResult
    public func delete(_ kind: ResourceKind, id: String) async throws(StoreError) -> StoredObjectView {
        try await delete(kind, id: id, force: false)
    }
}

/// A consumer's view of a store: the content when it started following, then each change in order.
public struct StoreChanges: Sendable {
    /// The content at the moment the consumer started following.
    public var initial: StoreSnapshot
    /// Every change after `initial`, oldest first.
    public var updates: AsyncStream<StoreEvent>

    public init(initial: StoreSnapshot, updates: AsyncStream<StoreEvent>) {
        self.initial = initial
        self.updates = updates
    }
}

/// The store a configuration asks for.
public enum RouteStores {
    /// The etcd store for `config_provider: etcd`, else the file store at `storePath`.
    public static func make(_ config: ProxyConfig, storePath: String, logger: Logger) throws -> any RouteStore {
        if config.configProvider == .etcd, let etcd = config.etcd {
            return try EtcdStore(config: etcd, trustedCA: config.engine.tls.trustedCertificateFile,
                                 logger: Logger(label: "mqtt-proxy.etcd"))
        }
        return FileStore(path: storePath, logger: logger, watchInterval: config.engine.storeWatchInterval)
    }

    /// The services a store needs beside the engine: for etcd, the instance's fleet registration (once
    /// `addresses` tells where it listens); none for a file.
    public static func companions(of store: any RouteStore, instanceID: String,
                                  addresses: @escaping @Sendable () async -> (listeners: [String], admin: String?))
        -> [any Service]
    {
        guard let etcd = store as? EtcdStore else { return [] }
        return [EtcdRegistration(store: etcd, id: instanceID, addresses: addresses)]
    }
}

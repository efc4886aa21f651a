import ProxyModel

/// An immutable view of the store at one version, handed to the engine, the admin API and the console.
public struct StoreSnapshot: Sendable {
    /// Increases with every accepted change (API write, file reload, etcd revision).
    public var revision: Int
    public var resources: ProxyResources

    public init(revision: Int, resources: ProxyResources) {
        self.revision = revision
        self.resources = resources
    }
}

/// What happened in the store, as told to its followers (`RouteStore.changes()`).
public enum StoreEvent: Sendable {
    /// A write through the store (admin API or console) was applied and persisted.
    case changed(StoreSnapshot, kind: ResourceKind, id: String, deleted: Bool)
    /// The file changed on disk and its new content is live.
    case reloaded(StoreSnapshot)
    /// The file changed on disk but was refused; the previous content stays live.
    case reloadRejected([SourceError])
    /// The store's source became reachable or unreachable (etcd); the content stays as it was.
    case statusChanged(StoreStatus)
}

/// Whether the store's source answers, for `/v1/store`, `/metrics` and the console's header.
public struct StoreStatus: Sendable, Hashable {
    /// `file` or `etcd`.
    public var provider: String
    /// The file, or the etcd endpoints and prefix.
    public var location: String
    /// False while etcd cannot be reached (the last good content stays live).
    public var reachable: Bool
    /// Unix time of the last change of `reachable`.
    public var since: Double
    /// Why it is unreachable.
    public var lastError: String?
    /// The source's own revision (etcd's), when it has one.
    public var sourceRevision: Int?
    /// The content came from the local cache (etcd was down at start) and etcd has not been read since.
    public var fromCache: Bool

    public init(provider: String, location: String, reachable: Bool, since: Double, lastError: String? = nil,
                sourceRevision: Int? = nil, fromCache: Bool = false)
    {
        self.provider = provider
        self.location = location
        self.reachable = reachable
        self.since = since
        self.lastError = lastError
        self.sourceRevision = sourceRevision
        self.fromCache = fromCache
    }
}

/// Why a store operation was refused.
public enum StoreError: Error, Sendable, CustomStringConvertible, Equatable {
    /// The object failed validation; the message names the field.
    case invalid(ValidationError)
    /// No object with that id.
    case notFound(kind: ResourceKind, id: String)
    /// The change would break another object (e.g. deleting an upstream a route still uses).
    case conflict(String)
    /// The file could not be read or written.
    case io(String)
    /// The store's source cannot be reached now (etcd down); nothing was changed.
    case unavailable(String)

    public var description: String {
        switch self {
        case .invalid(let e): return e.message
        case .notFound(let kind, let id): return "\(kind.noun) \(id) not found"
        case .conflict(let m): return m
        case .io(let m): return m
        case .unavailable(let m): return m
        }
    }
}

/// The outcome of a successful put: whether the object is new, and its stored form.
public struct PutResult: Sendable {
    public var created: Bool
    public var object: StoredObjectView
}

/// A stored object as the admin API shows it (raw JSON with the server-set fields, and its indexes).
public struct StoredObjectView: Sendable, Equatable {
    public var kind: ResourceKind
    public var id: String
    public var value: JSONValue
    public var createdIndex: Int
    public var modifiedIndex: Int
}

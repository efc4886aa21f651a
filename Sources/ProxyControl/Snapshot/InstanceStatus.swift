import RouteStore

/// One running instance as an attached console sees it: whether it answers, where its routes come from, and its own
/// counters (the merged snapshot holds the fleet's totals; these give the per-instance split).
public struct InstanceStatus: Sendable, Hashable {
    /// Its `instance_id` (or, before it answered once, the address it was attached by).
    public var name: String
    /// The admin API it is followed through (`http://127.0.0.1:9180`).
    public var url: String
    /// Whether its admin API answers now.
    public var reachable: Bool
    /// Unix time of the last answer; nil when it never answered.
    public var lastSeen: Double?
    /// Why it does not answer (connection refused, 401 wrong apikey…).
    public var lastError: String?
    /// The role of the key the console uses there (`admin`, `viewer`; nil when keys are not required).
    public var role: String?
    /// Where its routes come from and whether that answers (etcd reachable, its revision).
    public var store: StoreStatus?
    /// Its store's revision (the version of the routes it runs).
    public var storeRevision: Int?
    /// Host name and product version it reported.
    public var hostname: String?
    public var version: String?
    /// Its per-route and per-node counters.
    public var routes: [RouteStats]
    public var nodes: [NodeStats]
    /// Client connections open there (relayed and pending).
    public var openConnections: Int
    /// Bytes the console received from it so far (the cost of following it).
    public var bytesReceived: Int

    public init(name: String, url: String, reachable: Bool, lastSeen: Double? = nil, lastError: String? = nil,
                role: String? = nil, store: StoreStatus? = nil, storeRevision: Int? = nil, hostname: String? = nil,
                version: String? = nil, routes: [RouteStats] = [], nodes: [NodeStats] = [], openConnections: Int = 0,
                bytesReceived: Int = 0)
    {
        self.name = name
        self.url = url
        self.reachable = reachable
        self.lastSeen = lastSeen
        self.lastError = lastError
        self.role = role
        self.store = store
        self.storeRevision = storeRevision
        self.hostname = hostname
        self.version = version
        self.routes = routes
        self.nodes = nodes
        self.openConnections = openConnections
        self.bytesReceived = bytesReceived
    }

    /// Whether the key used there may only read.
    public var readOnly: Bool { role == "viewer" }
}

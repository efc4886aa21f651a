/// What the engine knows of one broker node's health and drain, as `/v1/nodes` and the console show it.
public struct NodeHealth: Sendable, Hashable {
    /// `ip:port`.
    public var node: String
    /// Whether a health check covers the node (an upstream with `checks` and more than one node uses it).
    public var checked: Bool
    /// False while a check counts it down; such a node takes no new clients (unless every node is down).
    public var healthy: Bool
    /// `healthy`, `mostly_healthy`, `mostly_unhealthy` or `unhealthy` (APISIX's names); `unchecked` otherwise.
    public var state: String
    /// The last failure that counted while the node is not healthy: "no CONNACK within 1.0 s", "CONNACK 0x05…".
    public var reason: String?
    /// Unix time of the last change between healthy and unhealthy (or when checking started).
    public var since: Double?
    /// The probe of the check (`tcp`, `mqtt`), when checked.
    public var checkType: String?
    /// Set while the node is drained: new clients go elsewhere, existing ones are moved at the given rate.
    public var drain: DrainInfo?
    /// Relays open to the node now.
    public var active: Int
    /// The upstreams (`upstream <id>` or `route <id>` for inline ones) that list the node.
    public var upstreams: [String]

    public init(node: String, checked: Bool, healthy: Bool, state: String, reason: String? = nil, since: Double? = nil,
                checkType: String? = nil, drain: DrainInfo? = nil, active: Int = 0, upstreams: [String] = [])
    {
        self.node = node
        self.checked = checked
        self.healthy = healthy
        self.state = state
        self.reason = reason
        self.since = since
        self.checkType = checkType
        self.drain = drain
        self.active = active
        self.upstreams = upstreams
    }

    /// Whether the node is being drained.
    public var draining: Bool { drain != nil }
}

/// A drain of one node: how fast its clients are moved off it, and where MQTT 5 clients are told to go.
public struct DrainInfo: Sendable, Hashable {
    /// Clients moved per second; nil keeps the existing clients and only turns new ones away.
    public var evictPerSecond: Double?
    /// Sent to MQTT 5 clients as the Server Reference of their DISCONNECT (0x9C use another server).
    public var serverReference: String?
    /// Unix time the drain started.
    public var since: Double
    /// Clients moved off the node so far by this drain.
    public var evicted: Int

    public init(evictPerSecond: Double?, serverReference: String?, since: Double, evicted: Int = 0) {
        self.evictPerSecond = evictPerSecond
        self.serverReference = serverReference
        self.since = since
        self.evicted = evicted
    }
}

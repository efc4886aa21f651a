import RouteStore

/// One relayed connection as operators see it.
public struct ConnectionInfo: Sendable, Hashable {
    public var id: UInt64
    /// The CONNECT's client id; nil when empty or when the route has no mqtt-proxy plugin.
    public var clientID: String?
    public var username: String?
    /// MQTT protocol level (3, 4, 5); nil for plain TCP routes.
    public var protocolLevel: Int?
    public var keepAlive: Int?
    public var cleanStart: Bool?
    public var remoteAddress: String
    public var remotePort: Int
    public var localAddress: String
    public var localPort: Int
    public var routeID: String
    /// The broker chosen, `ip:port`.
    public var node: String
    /// The key that was hashed (client id, or the client address when the id was empty); nil when not chash.
    public var hashKey: String?
    /// Index of the ring point that chose the node (chash only).
    public var ringPoint: Int?
    /// How many connect attempts it took (1 = first try).
    public var attempts: Int
    /// Unix time in seconds when the connection was accepted.
    public var startedAt: Double
    public var bytesIn: Int
    public var bytesOut: Int
    /// TLS version, SNI and verified client certificate; nil for plaintext connections.
    public var tls: TLSDetails?
    /// The relay is closed after this many seconds without traffic: the larger of the upstream's timeout and
    /// 1.5 × the CONNECT's keep-alive.
    public var idleLimit: Double = 0
    /// The load balancer that sent a PROXY protocol header (`ip:port` of the socket's peer); nil without one.
    public var via: String?
    /// The code of the broker's CONNACK once it passed; nil before (or on plain TCP routes).
    public var brokerConnack: Int?
    /// What a refusing CONNACK code means ("not authorized"); nil when accepted or not seen.
    public var brokerRefusal: String?
    /// The instance that relays it, when the console follows other instances (`console --attach`); nil locally.
    public var instance: String?

    public init(id: UInt64, clientID: String?, username: String?, protocolLevel: Int?, keepAlive: Int?,
                cleanStart: Bool?, remoteAddress: String, remotePort: Int, localAddress: String, localPort: Int,
                routeID: String, node: String, hashKey: String?, ringPoint: Int?, attempts: Int, startedAt: Double,
                bytesIn: Int, bytesOut: Int, tls: TLSDetails? = nil)
    {
        self.id = id
        self.clientID = clientID
        self.username = username
        self.protocolLevel = protocolLevel
        self.keepAlive = keepAlive
        self.cleanStart = cleanStart
        self.remoteAddress = remoteAddress
        self.remotePort = remotePort
        self.localAddress = localAddress
        self.localPort = localPort
        self.routeID = routeID
        self.node = node
        self.hashKey = hashKey
        self.ringPoint = ringPoint
        self.attempts = attempts
        self.startedAt = startedAt
        self.bytesIn = bytesIn
        self.bytesOut = bytesOut
        self.tls = tls
    }
}

/// Counters of one stream route.
public struct RouteStats: Sendable, Hashable {
    public var routeID: String
    public var active: Int
    public var total: Int
    public var rejected: [RejectReason: Int]
    public var bytesIn: Int
    public var bytesOut: Int
    public var connectFailures: Int
    /// Ended relays by cause.
    public var disconnects: [DisconnectCause: Int] = [:]

    public init(routeID: String, active: Int, total: Int, rejected: [RejectReason: Int], bytesIn: Int, bytesOut: Int,
                connectFailures: Int, disconnects: [DisconnectCause: Int] = [:])
    {
        self.disconnects = disconnects
        self.routeID = routeID
        self.active = active
        self.total = total
        self.rejected = rejected
        self.bytesIn = bytesIn
        self.bytesOut = bytesOut
        self.connectFailures = connectFailures
    }
}

/// Counters of one broker node.
public struct NodeStats: Sendable, Hashable {
    public var node: String
    public var active: Int
    public var total: Int
    public var bytesIn: Int
    public var bytesOut: Int
    public var connectFailures: Int
    /// Whether the latest connect attempt to the node failed (down or refusing now).
    public var failing: Bool
    /// Ended relays by cause.
    public var disconnects: [DisconnectCause: Int] = [:]
    /// The broker's CONNACK codes, counted (0 accepted; 0x05 / 0x87 not authorized…).
    public var connacks: [Int: Int] = [:]

    public init(node: String, active: Int, total: Int, bytesIn: Int, bytesOut: Int, connectFailures: Int,
                failing: Bool = false, disconnects: [DisconnectCause: Int] = [:], connacks: [Int: Int] = [:])
    {
        self.disconnects = disconnects
        self.connacks = connacks
        self.node = node
        self.active = active
        self.total = total
        self.bytesIn = bytesIn
        self.bytesOut = bytesOut
        self.connectFailures = connectFailures
        self.failing = failing
    }
}

/// Something operators should see in the log view: connects, closes, rejections, failures, reloads.
public struct EngineEvent: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        case connected, disconnected, rejected, upstreamFailure = "upstream_failure", retry, reload, error
        /// An operator's note, e.g. a demo step ("killed broker-2").
        case note
        /// A node turned unhealthy or healthy, or a drain started or ended.
        case health
        /// A broker answered a client's CONNECT with a refusal (bad credentials, not authorized, busy…).
        case brokerRefused = "broker_refused"
    }
    /// Increasing sequence number (for `/v1/events?since=N`).
    public var sequence: Int
    /// Unix time in seconds.
    public var time: Double
    public var kind: Kind
    public var routeID: String?
    public var clientID: String?
    public var remote: String?
    public var node: String?
    public var message: String
    /// The connection it concerns (`connected` and `disconnected` events), so a follower can keep a copy of the
    /// connection list from the events alone.
    public var connectionID: UInt64?
    /// The instance that recorded it, when the console follows other instances; nil locally.
    public var instance: String?

    public init(sequence: Int, time: Double, kind: Kind, routeID: String?, clientID: String?, remote: String?,
                node: String?, message: String, connectionID: UInt64? = nil)
    {
        self.connectionID = connectionID
        self.sequence = sequence
        self.time = time
        self.kind = kind
        self.routeID = routeID
        self.clientID = clientID
        self.remote = remote
        self.node = node
        self.message = message
    }
}

/// An immutable picture of the engine for the console, the admin API and metrics.
public struct EngineSnapshot: Sendable {
    /// Changes whenever connections come or go or an event is recorded.
    public var version: Int
    public var takenAt: Double
    public var startedAt: Double
    public var listeners: [String]
    public var connections: [ConnectionInfo]
    /// Relayed connections: `connections.count`, unless the picture was taken without its list (`summary`).
    public var relayed: Int
    public var routes: [RouteStats]
    public var nodes: [NodeStats]
    public var events: [EngineEvent]
    /// The sequence of the newest event recorded (also when `events` holds only some of them); 0 before any.
    public var lastEventSequence: Int
    /// Connections accepted but not yet relayed (waiting for CONNECT or for a broker).
    public var pending: Int
    public var totalAccepted: Int
    public var totalRejected: Int
    /// Rejections by reason over all routes, including those refused before a route was known (TLS).
    public var rejectedByReason: [RejectReason: Int]
    /// Successful TLS handshakes on TLS listeners.
    public var tlsHandshakes: Int
    /// Bytes read from clients still waiting for their whole CONNECT (a partial CONNECT shows here first).
    public var prereadBytes: Int
    /// On shutdown, how long open relays may go on before they are cut, in seconds.
    public var drainTimeout: Double
    /// Health and drain of every node the live routes list.
    public var health: [NodeHealth] = []
    /// Where the routes come from and whether it answers (etcd unreachable since…).
    public var store: StoreStatus?
    /// Client connections allowed at once (`max_connections`, or what the descriptor limit allows); 0 unknown.
    public var connectionLimit = 0
    /// The process's file-descriptor limit (soft, as raised at start); 0 unknown.
    public var descriptorLimit = 0
    /// The instances this picture is merged from, when the console follows running instances (`console --attach`);
    /// empty for an engine in this process.
    public var instances: [InstanceStatus] = []

    public init(version: Int, takenAt: Double, startedAt: Double, listeners: [String], connections: [ConnectionInfo],
                routes: [RouteStats], nodes: [NodeStats], events: [EngineEvent], pending: Int, totalAccepted: Int,
                totalRejected: Int, rejectedByReason: [RejectReason: Int] = [:], tlsHandshakes: Int = 0,
                prereadBytes: Int = 0, drainTimeout: Double = 10)
    {
        self.version = version
        self.takenAt = takenAt
        self.startedAt = startedAt
        self.listeners = listeners
        self.connections = connections
        relayed = connections.count
        self.routes = routes
        self.nodes = nodes
        self.events = events
        lastEventSequence = events.last?.sequence ?? 0
        self.pending = pending
        self.totalAccepted = totalAccepted
        self.totalRejected = totalRejected
        self.rejectedByReason = rejectedByReason
        self.tlsHandshakes = tlsHandshakes
        self.prereadBytes = prereadBytes
        self.drainTimeout = drainTimeout
    }

    /// Client connections still open: relayed or still being examined.
    public var openConnections: Int { relayed + pending }

    /// Whether the picture comes from other processes (an attached console) rather than an engine in this one.
    public var isAttached: Bool { !instances.isEmpty }
}

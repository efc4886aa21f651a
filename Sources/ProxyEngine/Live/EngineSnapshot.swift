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
    public var tls: TLSDetails? = nil
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
    public var failing: Bool = false
}

/// Something operators should see in the log view: connects, closes, rejections, failures, reloads.
public struct EngineEvent: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        case connected, disconnected, rejected, upstreamFailure = "upstream_failure", retry, reload, error
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
}

/// An immutable picture of the engine for the console, the admin API and metrics.
public struct EngineSnapshot: Sendable {
    /// Changes whenever connections come or go or an event is recorded.
    public var version: Int
    public var takenAt: Double
    public var startedAt: Double
    public var listeners: [String]
    public var connections: [ConnectionInfo]
    public var routes: [RouteStats]
    public var nodes: [NodeStats]
    public var events: [EngineEvent]
    /// Connections accepted but not yet relayed (waiting for CONNECT or for a broker).
    public var pending: Int
    public var totalAccepted: Int
    public var totalRejected: Int
    /// Rejections by reason over all routes, including those refused before a route was known (TLS).
    public var rejectedByReason: [RejectReason: Int] = [:]
    /// Successful TLS handshakes on TLS listeners.
    public var tlsHandshakes: Int = 0
}

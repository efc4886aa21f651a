/// Why a relayed connection ended; counted per route and node (`mqtt_proxy_disconnects_total`).
public enum DisconnectCause: String, Sendable, CaseIterable, Hashable {
    /// The client closed its connection (FIN).
    case clientClosed = "client_closed"
    /// The broker closed its connection (FIN).
    case brokerClosed = "broker_closed"
    /// The client's connection was reset (RST, broken pipe).
    case clientReset = "client_reset"
    /// The broker's connection was reset.
    case brokerReset = "broker_reset"
    /// No traffic either way for the relay's idle limit.
    case idleTimeout = "idle_timeout"
    /// The proxy ended it: the node was drained, or an operator disconnected it.
    case evicted
    /// The proxy is shutting down.
    case shutdown
    /// Anything else: a protocol or TLS error, a failed relay setup.
    case error
}

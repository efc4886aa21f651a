/// Why the proxy closed a connection without relaying it; counted per route and shown to operators.
public enum RejectReason: String, Sendable, CaseIterable, Hashable {
    /// No stream route matched the connection's addresses and port.
    case noRoute = "no_route"
    /// The first bytes were not a valid CONNECT.
    case malformed
    /// The CONNECT's protocol name or level differs from the route's mqtt-proxy settings.
    case protocolMismatch = "protocol_mismatch"
    /// The CONNECT did not arrive in time.
    case prereadTimeout = "preread_timeout"
    /// The CONNECT was larger than the preread limit.
    case tooLarge = "too_large"
    /// The client closed before sending a whole CONNECT.
    case clientClosed = "client_closed"
    /// The route's upstream has no usable node (none configured, weight 0, or no name resolved).
    case noNode = "no_node"
    /// Every attempt to connect to a node failed.
    case upstreamUnavailable = "upstream_unavailable"
    /// The TLS handshake failed (not TLS, no shared version or cipher, timeout).
    case tlsHandshake = "tls_handshake"
    /// No ssl object has a certificate for the client's SNI (or the client sent none and no fallback is set).
    case tlsNoCertificate = "tls_no_certificate"
    /// mTLS: the client sent no certificate, or one that does not chain to the CA within the depth.
    case tlsClientCertificate = "tls_client_certificate"
    /// Over `max_connections` (global or the listener's): answered CONNACK 0x03 (3.1.1) or 0x97 (5).
    case overLimit = "over_limit"
    /// The proxy ran out of file descriptors (EMFILE/ENFILE): answered like `over_limit`; never a broker's fault.
    case resourceExhausted = "resource_exhausted"
    /// The route's `limit-conn` has `conn + burst` connections with this key: answered like `over_limit`.
    case limitConn = "limit_conn"
    /// The route's `connect_rate` bucket is empty: answered CONNACK 0x03 (3.1.1) or 0x9F (5).
    case connectRate = "connect_rate"
    /// A `proxy_protocol` listener was reached by a peer outside `proxy_protocol_trusted`.
    case proxyProtocolUntrusted = "proxy_protocol_untrusted"
    /// The PROXY protocol header was malformed, too long or late.
    case proxyProtocolMalformed = "proxy_protocol_malformed"
}

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

    /// Position in counter arrays.
    var slot: Int { RejectReason.allCases.firstIndex(of: self)! }
}

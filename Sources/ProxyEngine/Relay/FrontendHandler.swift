import Foundation
import Logging
import MQTTCodec
import NIOCore
import ProxyControl
import ProxyProtocol

/// The first handler of every accepted connection: picks the route, prereads the CONNECT without consuming it,
/// connects to a broker (retrying other nodes), replays the buffered bytes and hands over to the glue.
///
/// A state machine whose states carry their data (the connect-proxy pattern of swift-nio-examples):
/// `idle → [awaitingProxyHeader →] [handshaking →] prereading → connecting → relaying`, or `closed` on any
/// rejection. `awaitingProxyHeader` is only for `proxy_protocol` listeners (a `ProxyHeaderReader` ahead in the
/// pipeline tells the header), `handshaking` only for TLS listeners, whose connections are matched once the
/// handshake has told the SNI; routes without the mqtt-proxy plugin skip `prereading`.
final class FrontendHandler {
    enum State {
        /// Accepted, not active yet.
        case idle
        /// `proxy_protocol` listener: waiting for the PROXY header (bounded by the preread timeout).
        case awaitingProxyHeader(Scheduled<Void>)
        /// TLS listener: waiting for the handshake to finish (bounded by the preread timeout).
        case handshaking(Handshaking)
        /// The route is known: waiting for a whole CONNECT.
        case prereading(Prereading)
        /// An attempt to reach a broker is in flight.
        case connecting(Connecting)
        /// The glue handlers relay; this handler leaves the pipeline.
        case relaying
        /// Rejected, or the client went away first.
        case closed
        /// Only while a state's buffer is appended to, so the buffer is not copied.
        case modifying
    }

    struct Handshaking {
        var timer: Scheduled<Void>
        /// Decrypted bytes that came with the end of the handshake.
        var buffer: ByteBuffer?
    }

    struct Prereading {
        let route: CompiledRoute
        var buffer: ByteBuffer?
        let timer: Scheduled<Void>
    }

    struct Connecting {
        let route: CompiledRoute
        /// The CONNECT; nil on routes without the mqtt-proxy plugin.
        let packet: ConnectPacket?
        var attempts: UpstreamAttempts
        /// Client bytes (the CONNECT first) to replay to the broker.
        var buffer: ByteBuffer?
        /// A read was held back while the buffer was over `pendingLimit`.
        var readPending = false
        /// The node being tried and when the attempt started.
        var index = -1
        var attemptStarted = NIODeadline.now()
        /// The PROXY protocol header each attempt's broker connection starts with; nil when brokers get none.
        var preface: ByteBuffer?
    }

    let env: ConnectionEnvironment
    var state = State.idle
    /// Set on the first activation.
    var addresses: ConnectionAddresses!
    let acceptedAt = Date().timeIntervalSince1970
    let acceptedDeadline = NIODeadline.now()
    /// The TLS session on a TLS listener; nil on plain ones.
    let tls: TLSSession?
    /// Version, SNI and client certificate once the handshake is done.
    var tlsDetails: TLSDetails?
    /// The route once matched (for logs and rejections after it).
    var route: CompiledRoute?
    /// The CONNECT's client id, nil when empty or not (yet) known. Made once from the packet's bytes.
    var clientID: String?
    /// The PROXY protocol header the connection started with, if its listener reads one.
    var proxyHeader: ProxyHeader?
    /// Whether the connection is within the connection limits (see `Admission`).
    let admission: Admission.Verdict

    /// Buffered client bytes above which reading pauses until the broker connection is up.
    static let pendingLimit = 256 * 1024

    init(env: ConnectionEnvironment, tls: TLSSession? = nil, admission: Admission.Verdict = .admitted) {
        self.env = env
        self.tls = tls
        self.admission = admission
    }

    /// The connection's logger, with its address, route, client id and TLS names as metadata. Built when a line
    /// is written, not kept up to date per connection: at the usual `notice` level nothing per connection is
    /// logged, and the metadata strings were a measurable part of the cost of a connection.
    var logger: Logger {
        FrontendHandler.connectionLogger(env.logger, remote: addresses.map { "\($0.remoteIP):\($0.remotePort)" },
                                         via: addresses?.viaText, tls: tlsDetails, route: route?.route.id,
                                         clientID: clientID)
    }

    /// `base` with a connection's metadata. A relay's last line builds it again from its `ConnectionInfo` rather
    /// than keeping a logger (its metadata dictionary was a tenth of a held session's memory).
    static func connectionLogger(_ base: Logger, remote: String?, via: String?, tls: TLSDetails?, route: String?,
                                 clientID: String?) -> Logger
    {
        var logger = base
        if let remote { logger[metadataKey: "remote"] = "\(remote)" }
        if let via { logger[metadataKey: "via"] = "\(via)" }
        if let sni = tls?.sni { logger[metadataKey: "sni"] = "\(sni)" }
        if let cn = tls?.clientCN { logger[metadataKey: "client_cn"] = "\(cn)" }
        if let route { logger[metadataKey: "route"] = "\(route)" }
        if let clientID { logger[metadataKey: "client_id"] = "\(clientID)" }
        return logger
    }

    /// Whether a line at `level` would be written (checked before building the logger on the hot path).
    func logs(_ level: Logger.Level) -> Bool { env.logger.logLevel <= level }

    // MARK: - Start

    func begin(context: ChannelHandlerContext) {
        guard case .idle = state else { return }
        addresses = ConnectionAddresses(channel: context.channel)
        env.registry.accepting()
        guard env.listener.acceptsProxyHeader else { return afterProxyHeader(context: context) }
        guard let peer = addresses.remoteBytes, env.settings.proxyProtocolTrusted.contains(where: {
            $0.contains(peer) || peer.unmappedIPv4.map($0.contains) == true
        }) else {
            reject(context: context, .proxyProtocolUntrusted,
                   "PROXY protocol header from \(addresses.remoteIP), which is not in mqtt_proxy.proxy_protocol_trusted",
                   reply: nil)
            return
        }
        let timer = startTimer(context: context, .proxyProtocolMalformed) { [env] in
            "no PROXY protocol header within \(env.settings.prereadTimeout) s"
        }
        state = .awaitingProxyHeader(timer)
    }

    /// The listener's PROXY header arrived: its addresses are the client's from now on.
    func proxyHeaderReceived(context: ChannelHandlerContext, _ header: ProxyHeader) {
        guard case .awaitingProxyHeader(let timer) = state else { return }
        timer.cancel()
        proxyHeader = header
        addresses = addresses.adopting(header)
        afterProxyHeader(context: context)
    }

    /// The TLS handshake, or the route match on plain listeners.
    private func afterProxyHeader(context: ChannelHandlerContext) {
        if tls != nil {
            let timer = startTimer(context: context, .tlsHandshake) { [env] in
                "no TLS handshake within \(env.settings.prereadTimeout) s"
            }
            state = .handshaking(Handshaking(timer: timer, buffer: nil))
            return
        }
        matchRoute(context: context, sni: nil, buffer: nil)
    }

    /// The TLS handshake finished: note its details, then match with the SNI.
    func handshakeCompleted(context: ChannelHandlerContext) {
        guard case .handshaking(let handshaking) = state, let tls else { return }
        handshaking.timer.cancel()
        let version = try? context.pipeline.syncOperations.nioSSL_tlsVersion()
        let details = TLSDetails(version: version, facts: tls.facts)
        tlsDetails = details
        env.registry.tlsHandshakeDone()
        env.registry.metrics.recordTLSHandshake(version: details.version, sslID: details.sslID,
                                                nanoseconds: (NIODeadline.now() - acceptedDeadline).nanoseconds)
        matchRoute(context: context, sni: details.sni, buffer: handshaking.buffer)
    }

    /// The TLS handshake failed: name the reason as precisely as the session knows it.
    func handshakeFailed(context: ChannelHandlerContext, error: Error) {
        if let rejection = error as? TLSRejection {
            reject(context: context, rejection.reason, rejection.description, reply: nil)
            return
        }
        let text = "\(error)"
        if let problem = tls?.facts.clientCertificateProblem {
            reject(context: context, .tlsClientCertificate, problem, reply: nil)
        } else if text.contains("PEER_DID_NOT_RETURN_A_CERTIFICATE") || text.contains("CERTIFICATE_REQUIRED") {
            reject(context: context, .tlsClientCertificate, "client sent no certificate (mTLS is required)", reply: nil)
        } else {
            reject(context: context, .tlsHandshake, "TLS handshake failed: \(text)", reply: nil)
        }
    }

    /// A timer that rejects the connection with `reason` unless the state moved on by then; `message` is only
    /// rendered when it fires.
    func startTimer(context: ChannelHandlerContext, _ reason: RejectReason,
                    _ message: @escaping @Sendable () -> String) -> Scheduled<Void>
    {
        let limit = TimeAmount.nanoseconds(Int64(env.settings.prereadTimeout * 1e9))
        return context.eventLoop.assumeIsolated().scheduleTask(in: limit) { [self] in
            switch state {
            case .awaitingProxyHeader, .handshaking, .prereading:
                reject(context: context, reason, message(), reply: nil)
            default:
                break
            }
        }
    }

    // MARK: - Ending

    /// Closes the connection without relaying it, counting and logging why; `reply` (a CONNACK) is sent first.
    func reject(context: ChannelHandlerContext, _ reason: RejectReason, _ message: String, reply: [UInt8]?) {
        switch state {
        case .closed, .relaying: return
        case .awaitingProxyHeader(let timer): timer.cancel()
        case .handshaking(let s): s.timer.cancel()
        case .prereading(let s): s.timer.cancel()
        case .idle, .connecting, .modifying: break
        }
        state = .closed
        logger.warning("connection rejected: \(message)", metadata: ["reason": "\(reason.rawValue)"])
        env.registry.reject(reason, routeID: route?.route.id, remote: addresses?.remoteIP ?? "?", clientID: clientID,
                            message: message)
        env.registry.pendingDone()
        if let reply {
            let out = context.channel.allocator.buffer(bytes: reply)
            context.writeAndFlush(NIOAny(out)).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        } else {
            context.close(promise: nil)
        }
    }

    /// The client closed (or half-closed) before the relay was set up.
    func clientWentAway(context: ChannelHandlerContext) {
        switch state {
        case .awaitingProxyHeader:
            reject(context: context, .proxyProtocolMalformed, "client closed before a whole PROXY protocol header",
                   reply: nil)
        case .handshaking:
            reject(context: context, .tlsHandshake, "client closed during the TLS handshake", reply: nil)
        case .prereading:
            reject(context: context, .clientClosed, "client closed before a complete CONNECT", reply: nil)
        case .connecting:
            reject(context: context, .clientClosed, "client closed while connecting to a broker", reply: nil)
        case .idle, .relaying, .closed, .modifying:
            break
        }
    }
}

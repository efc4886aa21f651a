import Foundation
import LoadBalancing
import Logging
import MQTTCodec
import NIOCore
import NIOPosix
import NIOSSL
import ProxyControl

/// The first handler of every accepted connection: picks the route, prereads the CONNECT without consuming
/// it, connects to a broker (retrying other nodes), replays the buffered bytes and hands over to the glue.
///
/// States: `matching → [handshaking →] prereading → connecting → relaying`, or `closed` on any rejection.
/// `handshaking` is only for TLS listeners, whose connections are matched once the handshake has told the SNI.
final class FrontendHandler {
    enum State {
        case matching
        case handshaking
        case prereading
        case connecting
        case relaying
        case closed
    }

    let env: ConnectionEnvironment
    var phase = State.matching
    var buffer: ByteBuffer?
    var addresses: ConnectionAddresses!
    var route: CompiledRoute?
    var packet: ConnectPacket?
    var prereadTimer: Scheduled<Void>?
    var pickState = PickState()
    var hashKey: String?
    var connectStarted = NIODeadline.now()
    var readPending = false
    let acceptedAt = Date().timeIntervalSince1970
    let acceptedDeadline = NIODeadline.now()
    /// The TLS session on a TLS listener; nil on plain ones.
    let tls: TLSSession?
    /// Version, SNI and client certificate once the handshake is done.
    var tlsDetails: TLSDetails?

    /// Buffered client bytes above which reading pauses until the broker connection is up.
    static let pendingLimit = 256 * 1024

    init(env: ConnectionEnvironment, tls: TLSSession? = nil) {
        self.env = env
        self.tls = tls
    }

    /// The connection's logger, with its address, route, client id and TLS names as metadata. Built when a line
    /// is written, not kept up to date per connection: at the usual `notice` level nothing per connection is
    /// logged, and the metadata strings were a measurable part of the cost of a connection.
    var logger: Logger {
        var logger = env.logger
        if let addresses { logger[metadataKey: "remote"] = "\(addresses.remoteIP):\(addresses.remotePort)" }
        if let sni = tlsDetails?.sni { logger[metadataKey: "sni"] = "\(sni)" }
        if let cn = tlsDetails?.clientCN { logger[metadataKey: "client_cn"] = "\(cn)" }
        if let route { logger[metadataKey: "route"] = "\(route.route.id)" }
        if let id = clientID { logger[metadataKey: "client_id"] = "\(id)" }
        return logger
    }

    /// Whether a line at `level` would be written (checked before building the logger on the hot path).
    func logs(_ level: Logger.Level) -> Bool { env.logger.logLevel <= level }

    /// The CONNECT's client id, nil when empty or not (yet) known. Made once from the packet's bytes.
    private(set) var clientID: String?

    // MARK: - Matching and preread

    func begin(context: ChannelHandlerContext) {
        guard phase == .matching, addresses == nil else { return }
        addresses = ConnectionAddresses(channel: context.channel)
        env.registry.accepting()
        if tls != nil {
            phase = .handshaking
            startTimer(context: context, .tlsHandshake, "no TLS handshake within \(self.env.settings.prereadTimeout) s")
            return
        }
        matchRoute(context: context, sni: nil)
    }

    /// The TLS handshake finished: note its details, then match with the SNI.
    func handshakeCompleted(context: ChannelHandlerContext) {
        guard phase == .handshaking, let tls else { return }
        prereadTimer?.cancel()
        let version = try? context.pipeline.syncOperations.nioSSL_tlsVersion()
        let details = TLSDetails(version: version, facts: tls.facts)
        tlsDetails = details
        env.registry.tlsHandshakeDone()
        env.registry.metrics.recordTLSHandshake(version: details.version, sslID: details.sslID,
                                                nanoseconds: (NIODeadline.now() - acceptedDeadline).nanoseconds)
        phase = .matching
        matchRoute(context: context, sni: details.sni)
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

    /// `message` is only rendered when the timer fires.
    private func startTimer(context: ChannelHandlerContext, _ reason: RejectReason,
                            _ message: @escaping @autoclosure () -> String)
    {
        let limit = TimeAmount.nanoseconds(Int64(env.settings.prereadTimeout * 1e9))
        let expected = phase
        prereadTimer = context.eventLoop.assumeIsolated().scheduleTask(in: limit) { [self] in
            guard phase == expected else { return }
            reject(context: context, reason, message(), reply: nil)
        }
    }

    private func matchRoute(context: ChannelHandlerContext, sni: String?) {
        let table = env.table()
        guard let route = table.match(remote: addresses.remoteBytes, local: addresses.localBytes,
                                      localPort: addresses.localPort, sni: sni)
        else {
            logger.info("not hit any route", metadata: ["local": "\(addresses.localIP):\(addresses.localPort)"])
            let what = sni.map { " with SNI \($0)" } ?? ""
            reject(context: context, .noRoute, "not hit any route on port \(addresses.localPort)\(what)", reply: nil)
            return
        }
        self.route = route
        if route.route.mqttProxy != nil {
            phase = .prereading
            startTimer(context: context, .prereadTimeout, "no complete CONNECT within \(self.env.settings.prereadTimeout) s")
            if buffer != nil { examineConnect(context: context) }
        } else {
            beginConnecting(context: context)
        }
    }

    func examineConnect(context: ChannelHandlerContext) {
        guard let route, let config = route.route.mqttProxy, let buffer else { return }
        if case .protocol(let name, let level) = ConnectDecoder.peekProtocol(buffer),
           name != config.protocolName || Int(level) != config.protocolLevel
        {
            reject(context: context, .protocolMismatch,
                   "CONNECT has protocol \(name)/\(level), route expects \(config.protocolName)/\(config.protocolLevel)",
                   reply: ConnackEncoder.rejectVersion(forClientLevel: level))
            return
        }
        switch ConnectDecoder.decode(buffer, maxPacketSize: env.settings.prereadMaxBytes) {
        case .needMoreBytes:
            return
        case .malformed(let error):
            let reason: RejectReason = error.reason.contains("exceeds") ? .tooLarge : .malformed
            reject(context: context, reason, error.reason, reply: nil)
        case .complete(let packet):
            self.packet = packet
            if packet.clientIDBytes.readableBytes > 0 { clientID = packet.clientID }
            prereadTimer?.cancel()
            env.registry.metrics.recordPreread(route: route.route.id,
                                               nanoseconds: (NIODeadline.now() - acceptedDeadline).nanoseconds)
            if logs(.debug) { logger.debug("mqtt client id: \(packet.clientID)") }
            beginConnecting(context: context)
        }
    }

    func reject(context: ChannelHandlerContext, _ reason: RejectReason, _ message: String, reply: [UInt8]?) {
        guard phase != .closed else { return }
        phase = .closed
        prereadTimer?.cancel()
        logger.warning("connection rejected: \(message)", metadata: ["reason": "\(reason.rawValue)"])
        env.registry.reject(reason, routeID: route?.route.id, remote: addresses.remoteIP, clientID: clientID,
                            message: message)
        env.registry.pendingDone()
        if let reply {
            let out = context.channel.allocator.buffer(bytes: reply)
            context.writeAndFlush(NIOAny(out)).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        } else {
            context.close(promise: nil)
        }
    }

    // MARK: - Connecting with retries

    private func beginConnecting(context: ChannelHandlerContext) {
        guard let route else { return }
        phase = .connecting
        guard route.balancer != nil else {
            reject(context: context, .noNode, route.unavailableReason ?? "no usable node", reply: nil)
            return
        }
        if route.upstream.type == .chash {
            let (key, fellBack) = addresses.hashKey(for: route.upstream, clientID: clientID)
            if fellBack, route.upstream.key != "remote_addr", logs(.debug) {
                logger.debug("chash_key fetch is nil, use default chash_key remote_addr: \(key)")
            }
            hashKey = key
        }
        connectStarted = .now()
        attempt(context: context)
    }

    private func attempt(context: ChannelHandlerContext) {
        guard phase == .connecting, let route, let balancer = route.balancer else { return }
        let upstream = route.upstream
        let maxAttempts = upstream.effectiveRetries + 1
        if pickState.attempts >= maxAttempts {
            return allFailed(context: context, "gave up after \(pickState.attempts) attempt(s)")
        }
        if let budget = upstream.retryTimeout, budget > 0, pickState.attempts > 0,
           NIODeadline.now() - connectStarted > .nanoseconds(Int64(budget * 1e9))
        {
            return allFailed(context: context, "retry_timeout of \(budget) s spent after \(pickState.attempts) attempt(s)")
        }
        guard let index = balancer.pick(hashKey: hashKey, state: &pickState) else {
            return allFailed(context: context, "all upstream nodes tried (\(pickState.attempts))")
        }
        // Counted against the node at once, as APISIX does, so concurrent picks during a slow connect see it
        // (least_conn); given back when this attempt fails or the relay ends.
        balancer.connectionOpened(index)
        let node = route.nodes[index]
        let address = node.address
        let connectTimeout = upstream.timeout?.connect ?? env.settings.connectTimeout
        let ringPoint = pickState.ringPoint
        let attemptStarted = NIODeadline.now()
        let upstreamTLS = route.upstreamTLS
        let hostName = node.name
        let loop = context.eventLoop
        let handshake: EventLoopPromise<Void>? = upstreamTLS == nil ? nil : loop.makePromise()
        let socketAddress = node.socketAddress
        let fallback = balancer.nodes[index]
        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(.nanoseconds(Int64(connectTimeout * 1e9)))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try ProxyEngine.setSocketOptions(channel, noDelay: false)
                    guard let upstreamTLS, let handshake else { return }
                    try channel.pipeline.syncOperations.addHandlers(
                        try upstreamTLS.handler(host: hostName), UpstreamHandshakeWaiter(promise: handshake))
                }
            }
        // The node's address is already resolved: connecting to it directly skips NIO's name lookup (a thread
        // hop per connection).
        (socketAddress.map { bootstrap.connect(to: $0) } ?? bootstrap.connect(host: fallback.host, port: fallback.port))
            .flatMap { channel -> EventLoopFuture<Channel> in
                guard let handshake else { return loop.makeSucceededFuture(channel) }
                let limit = loop.scheduleTask(in: .nanoseconds(Int64(connectTimeout * 1e9))) {
                    handshake.fail(TLSSetupError("TLS handshake took longer than \(connectTimeout) s"))
                }
                return handshake.futureResult.map { channel }.flatMapErrorThrowing { error in
                    channel.close(promise: nil)
                    throw TLSSetupError("TLS handshake with the broker failed: \(error)")
                }.always { _ in limit.cancel() }
            }
            .assumeIsolated()
            .whenComplete { [self] result in
                switch result {
                case .success(let upstreamChannel):
                    guard phase == .connecting, context.channel.isActive else {
                        balancer.connectionClosed(index)
                        upstreamChannel.close(promise: nil)
                        return
                    }
                    env.registry.metrics.recordUpstreamConnect(
                        route: route.route.id, nanoseconds: (NIODeadline.now() - attemptStarted).nanoseconds)
                    glue(context: context, upstreamChannel: upstreamChannel, index: index, node: address,
                         ringPoint: ringPoint)
                case .failure(let error):
                    handshake?.fail(error)
                    balancer.connectionClosed(index)
                    connectFailed(context: context, node: address, error: error)
                }
            }
    }

    private func connectFailed(context: ChannelHandlerContext, node: String, error: Error) {
        guard phase == .connecting else { return }
        let counters = env.registry.routeCounters(route?.route.id ?? "?")
        counters.connectFailures.wrappingIncrement(ordering: .relaxed)
        let nodeCounters = env.registry.nodeCounters(node)
        nodeCounters.connectFailures.wrappingIncrement(ordering: .relaxed)
        nodeCounters.lastAttemptFailed.store(true, ordering: .relaxed)
        env.registry.metrics.pair(route: route?.route.id ?? "?", node: node).connectFailures.increment()
        logger.warning("connect to \(node) failed: \(error)")
        env.registry.record(.upstreamFailure, routeID: route?.route.id, clientID: clientID,
                            remote: addresses.remoteIP, node: node, message: "connect failed: \(error)")
        attempt(context: context)
    }

    private func allFailed(context: ChannelHandlerContext, _ message: String) {
        reject(context: context, .upstreamUnavailable, message, reply: nil)
    }
}

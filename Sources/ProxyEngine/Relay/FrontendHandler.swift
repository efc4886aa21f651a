import Foundation
import LoadBalancing
import Logging
import MQTTCodec
import NIOCore
import NIOPosix

/// The first handler of every accepted connection: picks the route, prereads the CONNECT without consuming
/// it, connects to a broker (retrying other nodes), replays the buffered bytes and hands over to the glue.
///
/// States: `matching → prereading → connecting → relaying`, or `closed` on any rejection.
final class FrontendHandler {
    enum State {
        case matching
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
    var logger: Logger
    var prereadTimer: Scheduled<Void>?
    var pickState = PickState()
    var hashKey: String?
    var connectStarted = NIODeadline.now()
    var readPending = false
    let acceptedAt = Date().timeIntervalSince1970
    let acceptedDeadline = NIODeadline.now()

    /// Buffered client bytes above which reading pauses until the broker connection is up.
    static let pendingLimit = 256 * 1024

    init(env: ConnectionEnvironment) {
        self.env = env
        self.logger = env.logger
    }

    var clientID: String? {
        guard let id = packet?.clientID, !id.isEmpty else { return nil }
        return id
    }

    // MARK: - Matching and preread

    func begin(context: ChannelHandlerContext) {
        guard phase == .matching, addresses == nil else { return }
        addresses = ConnectionAddresses(channel: context.channel)
        logger[metadataKey: "remote"] = "\(addresses.remoteIP):\(addresses.remotePort)"
        env.registry.accepting()
        let table = env.table()
        guard let route = table.match(remote: addresses.remoteBytes, local: addresses.localBytes,
                                      localPort: addresses.localPort, sni: nil)
        else {
            logger.info("not hit any route", metadata: ["local": "\(addresses.localIP):\(addresses.localPort)"])
            reject(context: context, .noRoute, "not hit any route on port \(addresses.localPort)", reply: nil)
            return
        }
        self.route = route
        logger[metadataKey: "route"] = "\(route.route.id)"
        if route.route.mqttProxy != nil {
            phase = .prereading
            let limit = TimeAmount.nanoseconds(Int64(env.settings.prereadTimeout * 1e9))
            prereadTimer = context.eventLoop.assumeIsolated().scheduleTask(in: limit) { [self] in
                guard case .prereading = phase else { return }
                reject(context: context, .prereadTimeout,
                       "no complete CONNECT within \(env.settings.prereadTimeout) s", reply: nil)
            }
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
            prereadTimer?.cancel()
            env.registry.metrics.recordPreread(route: route.route.id,
                                               nanoseconds: (NIODeadline.now() - acceptedDeadline).nanoseconds)
            if let id = clientID { logger[metadataKey: "client_id"] = "\(id)" }
            logger.debug("mqtt client id: \(packet.clientID)")
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
            if fellBack, route.upstream.key != "remote_addr" {
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
        let node = balancer.nodes[index]
        let address = node.address
        let connectTimeout = upstream.timeout?.connect ?? env.settings.connectTimeout
        let ringPoint = pickState.ringPoint
        let attemptStarted = NIODeadline.now()
        ClientBootstrap(group: context.eventLoop)
            .connectTimeout(.nanoseconds(Int64(connectTimeout * 1e9)))
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .connect(host: node.host, port: node.port)
            .assumeIsolated()
            .whenComplete { [self] result in
                switch result {
                case .success(let upstreamChannel):
                    guard phase == .connecting, context.channel.isActive else {
                        upstreamChannel.close(promise: nil)
                        return
                    }
                    env.registry.metrics.recordUpstreamConnect(
                        route: route.route.id, nanoseconds: (NIODeadline.now() - attemptStarted).nanoseconds)
                    glue(context: context, upstreamChannel: upstreamChannel, index: index, node: address,
                         ringPoint: ringPoint)
                case .failure(let error):
                    connectFailed(context: context, node: address, error: error)
                }
            }
    }

    private func connectFailed(context: ChannelHandlerContext, node: String, error: Error) {
        guard phase == .connecting else { return }
        let counters = env.registry.routeCounters(route?.route.id ?? "?")
        counters.connectFailures.wrappingIncrement(ordering: .relaxed)
        env.registry.nodeCounters(node).connectFailures.wrappingIncrement(ordering: .relaxed)
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

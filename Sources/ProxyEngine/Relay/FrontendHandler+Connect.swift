import LoadBalancing
import MQTTCodec
import NIOCore
import ProxyControl

extension FrontendHandler {
    // MARK: - Matching and preread

    /// Finds the route for the connection (with the TLS SNI, if any) and moves on to the preread, or straight to
    /// connecting for routes without the mqtt-proxy plugin. `buffer` holds client bytes read so far.
    func matchRoute(context: ChannelHandlerContext, sni: String?, buffer: ByteBuffer?) {
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
        guard route.route.mqttProxy != nil else {
            admitAndConnect(context: context, route: route, packet: nil, buffer: buffer)
            return
        }
        let timer = startTimer(context: context, .prereadTimeout) { [env] in
            "no complete CONNECT within \(env.settings.prereadTimeout) s"
        }
        state = .prereading(Prereading(route: route, buffer: buffer, timer: timer))
        if buffer != nil { examineConnect(context: context) }
    }

    /// Appends client bytes to the buffer of the current state (without copying it).
    func buffer(_ incoming: inout ByteBuffer) {
        switch state {
        case .handshaking(var s):
            state = .modifying
            s.buffer.append(&incoming)
            state = .handshaking(s)
        case .prereading(var s):
            state = .modifying
            env.registry.prereadRead(incoming.readableBytes)
            s.buffer.append(&incoming)
            state = .prereading(s)
        case .connecting(var s):
            state = .modifying
            s.buffer.append(&incoming)
            state = .connecting(s)
        case .idle, .awaitingProxyHeader, .relaying, .closed, .modifying:
            break
        }
    }

    /// Looks at the buffered bytes: a wrong protocol is refused with a CONNACK, malformed bytes are closed, a whole
    /// CONNECT moves on to connecting; a partial one waits for more.
    func examineConnect(context: ChannelHandlerContext) {
        guard case .prereading(let preread) = state, let config = preread.route.route.mqttProxy,
              let buffer = preread.buffer
        else { return }
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
            preread.timer.cancel()
            if packet.clientIDBytes.readableBytes > 0 { clientID = packet.clientID }
            env.registry.metrics.recordPreread(route: preread.route.route.id,
                                               nanoseconds: (NIODeadline.now() - acceptedDeadline).nanoseconds)
            if logs(.debug) { logger.debug("mqtt client id: \(packet.clientID)") }
            admitAndConnect(context: context, route: preread.route, packet: packet, buffer: buffer)
        }
    }

    // MARK: - Connecting with retries

    /// Starts connecting, after `delay` seconds (`limit-conn`'s wait for excess connections).
    func beginConnecting(context: ChannelHandlerContext, route: CompiledRoute, packet: ConnectPacket?,
                         buffer: ByteBuffer?, delay: Double = 0)
    {
        guard let balancer = route.balancer else {
            reject(context: context, .noNode, route.unavailableReason ?? "no usable node", reply: nil)
            return
        }
        var hashKey: String?
        if route.upstream.type == .chash {
            let (key, fellBack) = variables(packet).hashKey(for: route.upstream)
            if fellBack, route.upstream.key != "remote_addr", logs(.debug) {
                logger.debug("chash_key fetch is nil, use default chash_key remote_addr: \(key)")
            }
            hashKey = key
        }
        route.status.markUsed()
        let attempts = UpstreamAttempts(balancer: balancer, upstreamRetries: route.upstream.effectiveRetries,
                                        retryTimeout: route.upstream.retryTimeout, hashKey: hashKey,
                                        excluded: route.status.excluded())
        var connecting = Connecting(route: route, packet: packet, attempts: attempts, buffer: buffer)
        connecting.preface = proxyPreface(route: route)
        state = .connecting(connecting)
        guard delay > 0 else { return attempt(context: context) }
        if logs(.info) { logger.info("limit-conn: waiting \(delay) s before connecting") }
        context.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(Int64(delay * 1e9))) { [self] in
            attempt(context: context)
        }
    }

    /// Starts the next attempt, or gives up.
    private func attempt(context: ChannelHandlerContext) {
        guard case .connecting(var connecting) = state else { return }
        let route = connecting.route
        let next = connecting.attempts.next()
        guard case .node(let index, let ringPoint) = next else {
            if case .giveUp(let why) = next { reject(context: context, .upstreamUnavailable, why, reply: nil) }
            return
        }
        connecting.index = index
        connecting.attemptStarted = .now()
        state = .connecting(connecting)
        let node = route.nodes[index]
        let timeout = TimeAmount.nanoseconds(Int64((route.upstream.timeout?.connect ?? env.settings.connectTimeout) * 1e9))
        let attempts = connecting.attempts
        env.connector.connect(to: node, of: route, index: index, timeout: timeout, preface: connecting.preface,
                              replay: connecting.buffer, on: context.eventLoop)
            .assumeIsolated()
            .whenComplete { [self] result in
                switch result {
                case .success(let connection):
                    let upstream = connection.channel
                    guard case .connecting(let connecting) = state, context.channel.isActive else {
                        attempts.finished(index: index)
                        upstream.close(promise: nil)
                        return
                    }
                    env.registry.metrics.recordUpstreamConnect(
                        route: route.route.id, nanoseconds: (NIODeadline.now() - connecting.attemptStarted).nanoseconds)
                    if let target = route.status.targets[index], target.key.checks.passive?.type.probe != .mqtt {
                        env.health?.passive(.success, target: target)
                    }
                    glue(context: context, connecting, upstream: upstream, replayed: connection.replayed,
                         node: node.address, ringPoint: ringPoint)
                case .failure(let error):
                    attempts.finished(index: index)
                    if isDescriptorExhaustion(error) {
                        // The proxy's own shortage: the broker is not to blame, and other nodes would fail alike.
                        guard case .connecting(let connecting) = state else { return }
                        reject(context: context, .resourceExhausted,
                               "out of file descriptors connecting to \(node.address): \(error)",
                               reply: refusal(connecting.packet, .quotaExceeded))
                        return
                    }
                    if let target = route.status.targets[index] {
                        let timedOut = if case ChannelError.connectTimeout = error { true } else { false }
                        env.health?.passive(timedOut ? .timeout("connect timed out") : .tcpFailure("connect failed: \(error)"),
                                            target: target)
                    }
                    connectFailed(context: context, route: route, node: node.address, error: error)
                }
            }
    }

    private func connectFailed(context: ChannelHandlerContext, route: CompiledRoute, node: String, error: Error) {
        guard case .connecting = state else { return }
        env.registry.routeCounters(route.route.id).connectFailures.wrappingIncrement(ordering: .relaxed)
        let nodeCounters = env.registry.nodeCounters(node)
        nodeCounters.connectFailures.wrappingIncrement(ordering: .relaxed)
        nodeCounters.lastAttemptFailed.store(true, ordering: .relaxed)
        env.registry.metrics.pair(route: route.route.id, node: node).connectFailures.increment()
        logger.warning("connect to \(node) failed: \(error)")
        env.registry.record(.upstreamFailure, routeID: route.route.id, clientID: clientID,
                            remote: addresses.remoteIP, node: node, message: "connect failed: \(error)")
        attempt(context: context)
    }
}

extension Optional where Wrapped == ByteBuffer {
    /// Appends `incoming`, taking it as the buffer when there is none yet.
    mutating func append(_ incoming: inout ByteBuffer) {
        switch self {
        case .none: self = incoming
        case .some: self!.writeBuffer(&incoming)
        }
    }
}

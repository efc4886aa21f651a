import Atomics
import LoadBalancing
import MQTTCodec
import NIOCore
import ProxyControl

extension FrontendHandler {
    /// The broker answered: register the connection, replay the buffered bytes (past the `replayed` ones the
    /// connector sent already) and splice the two channels.
    func glue(context: ChannelHandlerContext, _ connecting: Connecting, upstream upstreamChannel: Channel,
              replayed: Int, node: String, ringPoint: Int?)
    {
        state = .relaying
        let route = connecting.route
        let registry = env.registry
        let packet = connecting.packet
        let attempts = connecting.attempts
        let index = connecting.index
        let idleSeconds = FrontendHandler.idleLimit(upstream: route.upstream.timeout?.idle ?? env.settings.idleTimeout,
                                                    keepAlive: packet.map { Int($0.keepAlive) })
        var info = ConnectionInfo(
            id: registry.newConnectionID(), clientID: clientID, username: packet?.username,
            protocolLevel: packet.map { Int($0.protocolLevel) }, keepAlive: packet.map { Int($0.keepAlive) },
            cleanStart: packet.map { $0.flags.contains(.cleanStart) }, remoteAddress: addresses.remoteIP,
            remotePort: addresses.remotePort, localAddress: addresses.localIP, localPort: addresses.localPort,
            routeID: route.route.id, node: node, hashKey: attempts.hashKey,
            ringPoint: route.upstream.type == .chash ? ringPoint : nil,
            attempts: attempts.attempts, startedAt: acceptedAt, bytesIn: 0, bytesOut: 0, tls: tlsDetails)
        info.idleLimit = idleSeconds
        info.via = addresses.viaText
        let live = LiveConnection(info: info, route: registry.routeCounters(route.route.id),
                                  node: registry.nodeCounters(node),
                                  metrics: registry.metrics.pair(route: route.route.id, node: node),
                                  channel: context.channel)
        let relay = RelayState(live: live, idleLimit: .nanoseconds(Int64(idleSeconds * 1e9)),
                               clientLevel: packet?.protocolLevel)
        relay.halfCloseLimit = .nanoseconds(Int64(env.settings.halfCloseTimeout * 1e9))
        if let packet {
            let target = route.status.targets[index].flatMap { $0.key.checks.passive?.type.probe == .mqtt ? $0 : nil }
            relay.onConnack = { [health = env.health, clientID, remote = addresses.remoteIP] code in
                live.connack.store(Int(code), ordering: .relaxed)
                live.node.connack(code)
                guard code != 0 else {
                    live.metrics.connackAccepted.increment()
                    if let target, let health { health.passive(.success, target: target) }
                    return
                }
                // A refusal (rare): its text is made only now.
                registry.metrics.brokerConnack(node: node, code: code)
                let text = "CONNACK \(ConnackText.describe(code, level: packet.protocolLevel))"
                registry.record(.brokerRefused, routeID: route.route.id, clientID: clientID, remote: remote,
                                node: node, message: "broker refused the client: \(text)")
                if let target, let health { health.passive(.mqttFailure(code: code, text), target: target) }
            }
        }
        let (clientGlue, brokerGlue) = GlueHandler.pair(relay: relay)
        live.node.lastAttemptFailed.store(false, ordering: .relaxed)
        registry.register(live)
        registry.pendingDone()
        if attempts.attempts > 1 {
            registry.record(.retry, routeID: route.route.id, clientID: clientID, remote: addresses.remoteIP,
                            node: node, message: "connected on attempt \(attempts.attempts)")
        }
        // Built only when info lines are written (see `logger`); the last line's logger is built when it is written.
        if logs(.info) { logger.info("proxy request to \(node)") }
        let endLogger = logs(.info) ? env.logger : nil

        // Either side closing closes the other; the relay ends when both are closed. Both channels are on this
        // event loop, so the count in `relay` needs no lock.
        let watch = env.idleWatches.watch(for: context.eventLoop)
        let ended = {
            watch.remove(relay)
            attempts.finished(index: index)
            let (cause, detail) = live.closedByOperator.load(ordering: .relaxed)
                ? (.evicted, "disconnected by operator") : relay.end ?? (.error, "closed")
            registry.unregister(live, cause: cause, detail: detail)
            guard let endLogger else { return }
            let i = live.info
            FrontendHandler.connectionLogger(endLogger, remote: "\(i.remoteAddress):\(i.remotePort)", via: i.via,
                                             tls: i.tls, route: i.routeID, clientID: i.clientID)
                .info("relay ended: \(cause.rawValue)\(detail.map { " (\($0))" } ?? "")",
                      metadata: ["cause": "\(cause.rawValue)"])
        }
        // The closures hold the channels, never `context`: it would keep this handler (and its whole environment)
        // alive for as long as the relay lasts.
        let clientChannel = context.channel
        clientChannel.closeFuture.assumeIsolated().whenComplete { _ in
            upstreamChannel.close(promise: nil)
            if relay.sideClosed() { ended() }
        }
        upstreamChannel.closeFuture.assumeIsolated().whenComplete { _ in
            clientChannel.close(promise: nil)
            if relay.sideClosed() { ended() }
        }

        do {
            try upstreamChannel.pipeline.syncOperations.addHandler(brokerGlue)
            if var pending = connecting.buffer, pending.readableBytes > 0 {
                live.addIn(pending.readableBytes)
                pending.moveReaderIndex(forwardBy: min(replayed, pending.readableBytes))
                if pending.readableBytes > 0 { upstreamChannel.writeAndFlush(pending, promise: nil) }
            }
            try context.pipeline.syncOperations.addHandler(clientGlue, position: .after(context.handler))
            watch.add(relay) { relay in
                if relay.halfClosedSince == nil {
                    clientGlue.closeBoth(.idleTimeout, "no traffic for \(idleSeconds) s")
                } else {
                    clientGlue.closeBoth(.idleTimeout, "half-closed for \(relay.halfCloseLimit.seconds) s")
                }
            }
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            if let ending = env.shutdown.ending { clientGlue.beginEnding(ending) }
        } catch {
            self.logger.error("could not set up relay: \(error)")
            relay.noteClose(.error, "relay setup failed: \(error)")
            context.close(promise: nil)
        }
        if connecting.readPending {
            // Reading was held back while bytes piled up; ask again through the whole pipeline (this
            // handler's own context is gone), so the client glue decides by the broker side's writability.
            context.channel.read()
        }
    }

    /// A relay's idle limit: the upstream's (or the default), raised to 1.5 × the client's keep-alive so that a
    /// healthy client that only pings is never cut (keep-alive 0 or plain TCP: the upstream's).
    static func idleLimit(upstream: Double, keepAlive: Int?) -> Double {
        guard let keepAlive, keepAlive > 0 else { return upstream }
        return max(upstream, 1.5 * Double(keepAlive))
    }
}

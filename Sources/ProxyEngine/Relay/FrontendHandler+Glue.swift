import Atomics
import LoadBalancing
import MQTTCodec
import NIOCore
import ProxyControl

extension FrontendHandler {
    /// The broker answered: register the connection, replay the buffered bytes and splice the two channels.
    func glue(context: ChannelHandlerContext, _ connecting: Connecting, upstream upstreamChannel: Channel,
              node: String, ringPoint: Int?)
    {
        state = .relaying
        let route = connecting.route
        let registry = env.registry
        let packet = connecting.packet
        let attempts = connecting.attempts
        let index = connecting.index
        let info = ConnectionInfo(
            id: registry.newConnectionID(), clientID: clientID, username: packet?.username,
            protocolLevel: packet.map { Int($0.protocolLevel) }, keepAlive: packet.map { Int($0.keepAlive) },
            cleanStart: packet.map { $0.flags.contains(.cleanStart) }, remoteAddress: addresses.remoteIP,
            remotePort: addresses.remotePort, localAddress: addresses.localIP, localPort: addresses.localPort,
            routeID: route.route.id, node: node, hashKey: attempts.hashKey,
            ringPoint: route.upstream.type == .chash ? ringPoint : nil,
            attempts: attempts.attempts, startedAt: acceptedAt, bytesIn: 0, bytesOut: 0, tls: tlsDetails)
        let live = LiveConnection(info: info, route: registry.routeCounters(route.route.id),
                                  node: registry.nodeCounters(node),
                                  metrics: registry.metrics.pair(route: route.route.id, node: node),
                                  channel: context.channel)
        let idleSeconds = route.upstream.timeout?.idle ?? env.settings.idleTimeout
        let relay = RelayState(live: live, idleLimit: .nanoseconds(Int64(idleSeconds * 1e9)),
                               clientLevel: packet?.protocolLevel)
        relay.halfCloseLimit = .nanoseconds(Int64(env.settings.halfCloseTimeout * 1e9))
        if let target = route.status.targets[index], let health = env.health,
           target.key.checks.passive?.type.probe == .mqtt
        {
            let level = packet?.protocolLevel ?? 4
            relay.onConnack = { code in
                health.passive(code == 0 ? .success : .mqttFailure(code: code, "CONNACK \(ConnackText.describe(code, level: level))"),
                               target: target)
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
        // Built only when info lines are written (see `logger`).
        let logger = logs(.info) ? self.logger : nil
        logger?.info("proxy request to \(node)")

        // Either side closing closes the other; the relay ends when both are closed. Both channels are on this
        // event loop, so the count in `relay` needs no lock.
        let watch = env.idleWatches.watch(for: context.eventLoop)
        let ended = {
            watch.remove(relay)
            attempts.finished(index: index)
            let reason = live.closedByOperator.load(ordering: .relaxed)
                ? "disconnected by operator" : relay.closeReason ?? "closed"
            registry.unregister(live, reason: reason)
            logger?.info("relay ended: \(reason)")
        }
        context.channel.closeFuture.assumeIsolated().whenComplete { _ in
            upstreamChannel.close(promise: nil)
            if relay.sideClosed() { ended() }
        }
        upstreamChannel.closeFuture.assumeIsolated().whenComplete { _ in
            context.channel.close(promise: nil)
            if relay.sideClosed() { ended() }
        }

        do {
            try upstreamChannel.pipeline.syncOperations.addHandler(brokerGlue)
            if let pending = connecting.buffer, pending.readableBytes > 0 {
                live.addIn(pending.readableBytes)
                upstreamChannel.writeAndFlush(pending, promise: nil)
            }
            try context.pipeline.syncOperations.addHandler(clientGlue, position: .after(context.handler))
            watch.add(relay) { relay in
                clientGlue.closeBoth(reason: relay.halfClosedSince == nil ? "idle timeout" : "half-closed too long")
            }
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            if let ending = env.shutdown.ending { clientGlue.beginEnding(ending) }
        } catch {
            self.logger.error("could not set up relay: \(error)")
            relay.noteClose("relay setup failed: \(error)")
            context.close(promise: nil)
        }
        if connecting.readPending {
            // Reading was held back while bytes piled up; ask again through the whole pipeline (this
            // handler's own context is gone), so the client glue decides by the broker side's writability.
            context.channel.read()
        }
    }
}

import NIOCore
import NIOPosix
import LoadBalancing

/// Opens one connection to one broker: TCP within the connect timeout, then TLS when the upstream's scheme asks
/// for it. The engine uses `NIOUpstreamConnector`; tests put in their own to drive the front handler on an
/// `EmbeddedChannel`.
protocol UpstreamConnecting: Sendable {
    /// A channel to `node` on `loop` (the client's own loop: no thread hop between the two sides of a relay),
    /// set up for relaying; fails when the broker cannot be reached within `timeout`.
    func connect(to node: CompiledNode, of route: CompiledRoute, index: Int, timeout: TimeAmount,
                 on loop: EventLoop) -> EventLoopFuture<Channel>
}

/// The real connector: `ClientBootstrap` on the client's loop, straight to the node's resolved address.
struct NIOUpstreamConnector: UpstreamConnecting {
    func connect(to node: CompiledNode, of route: CompiledRoute, index: Int, timeout: TimeAmount,
                 on loop: EventLoop) -> EventLoopFuture<Channel>
    {
        let upstreamTLS = route.upstreamTLS
        let handshake: EventLoopPromise<Void>? = upstreamTLS == nil ? nil : loop.makePromise()
        let hostName = node.name
        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(timeout)
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
        let connected: EventLoopFuture<Channel>
        if let address = node.socketAddress {
            connected = bootstrap.connect(to: address)
        } else if let balancerNode = route.balancer?.nodes[index] {
            connected = bootstrap.connect(host: balancerNode.host, port: balancerNode.port)
        } else {
            connected = loop.makeFailedFuture(TLSSetupError("node \(node.address) has no address"))
        }
        guard let handshake else { return connected }
        return connected.flatMap { channel -> EventLoopFuture<Channel> in
            let limit = loop.scheduleTask(in: timeout) {
                handshake.fail(TLSSetupError("TLS handshake took longer than \(timeout.seconds) s"))
            }
            return handshake.futureResult.map { channel }.flatMapErrorThrowing { error in
                channel.close(promise: nil)
                throw TLSSetupError("TLS handshake with the broker failed: \(error)")
            }.always { _ in limit.cancel() }
        }.flatMapErrorThrowing { error in
            handshake.fail(error)
            throw error
        }
    }
}

extension TimeAmount {
    /// Seconds, for messages.
    var seconds: Double { Double(nanoseconds) / 1e9 }
}

import NIOCore
import NIOPosix
import LoadBalancing
import ProxyModel
import ProxyProtocol

/// Opens one connection to one broker: TCP within the connect timeout, then TLS when the upstream's scheme asks
/// for it. The engine uses `NIOUpstreamConnector`; tests put in their own to drive the front handler on an
/// `EmbeddedChannel`.
protocol UpstreamConnecting: Sendable {
    /// A channel to `node` on `loop` (the client's own loop: no thread hop between the two sides of a relay),
    /// set up for relaying; fails when the broker cannot be reached within `timeout`. `preface` (a PROXY protocol
    /// header) goes first on the wire, ahead of TLS and of everything relayed. `replay` is the client's bytes so
    /// far (the CONNECT first): a connector may send them itself as its first write and says how many it sent.
    func connect(to node: CompiledNode, of route: CompiledRoute, index: Int, timeout: TimeAmount,
                 preface: ByteBuffer?, replay: ByteBuffer?, on loop: EventLoop) -> EventLoopFuture<UpstreamConnection>
}

/// A connected broker channel, and how many of the client's buffered bytes already went to it.
struct UpstreamConnection {
    let channel: Channel
    let replayed: Int
}

/// The real connector, on the client's loop, straight to the node's resolved address: `DirectConnect` for plaintext
/// brokers when there are bytes to send first (the MQTT case), `ClientBootstrap` otherwise.
struct NIOUpstreamConnector: UpstreamConnecting {
    func connect(to node: CompiledNode, of route: CompiledRoute, index: Int, timeout: TimeAmount,
                 preface: ByteBuffer?, replay: ByteBuffer?, on loop: EventLoop) -> EventLoopFuture<UpstreamConnection>
    {
        let upstreamTLS = route.upstreamTLS
        let replayed = replay?.readableBytes ?? 0
        if upstreamTLS == nil, let address = node.socketAddress, replayed + (preface?.readableBytes ?? 0) > 0 {
            var first = preface ?? replay!
            if preface != nil, var replay { first.writeBuffer(&replay) }
            return DirectConnect.connect(to: address, timeout: timeout, first: first, on: loop)
                .map { UpstreamConnection(channel: $0, replayed: replayed) }
        }
        return bootstrapConnect(to: node, of: route, index: index, timeout: timeout, preface: preface, on: loop)
            .map { UpstreamConnection(channel: $0, replayed: 0) }
    }

    private func bootstrapConnect(to node: CompiledNode, of route: CompiledRoute, index: Int, timeout: TimeAmount,
                                  preface: ByteBuffer?, on loop: EventLoop) -> EventLoopFuture<Channel>
    {
        let upstreamTLS = route.upstreamTLS
        let handshake: EventLoopPromise<Void>? = upstreamTLS == nil ? nil : loop.makePromise()
        let hostName = node.name
        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try ProxyEngine.setSocketOptions(channel, noDelay: false)
                    if let preface { try channel.pipeline.syncOperations.addHandler(ProxyHeaderWriter(header: preface)) }
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

/// Sends a PROXY protocol header before anything else on a broker connection: ahead of the first write (the
/// replayed CONNECT) or, when the connection becomes active first, at once (ahead of the TLS ClientHello, which
/// passes through here). Then it leaves the pipeline.
final class ProxyHeaderWriter: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum Header {
        case bytes(ByteBuffer)
        /// A health probe's own header: LOCAL (v2), or the probe connection's own addresses (v1).
        case probe(ProxyProtocolVersion)
        case sent
    }

    private var header: Header

    init(header: ByteBuffer) {
        self.header = .bytes(header)
    }

    /// For health probes of brokers that expect a header on every connection.
    init(probe version: ProxyProtocolVersion) {
        header = .probe(version)
    }

    /// Writes the header if it is still due; true when it just did.
    private func sendHeader(context: ChannelHandlerContext) -> Bool {
        let bytes: ByteBuffer
        switch header {
        case .sent: return false
        case .bytes(let b): bytes = b
        case .probe(.v2):
            bytes = ByteBuffer(bytes: ProxyHeader(version: 2, command: .local, source: nil, destination: nil).encoded())
        case .probe(.v1):
            let own = ProxyHeader(version: 1, source: context.channel.localAddress, destination: context.channel.remoteAddress)
            bytes = ByteBuffer(bytes: own.encoded())
        }
        header = .sent
        context.write(wrapOutboundOut(bytes), promise: nil)
        return true
    }

    func channelActive(context: ChannelHandlerContext) {
        let sent = sendHeader(context: context)
        if sent { context.flush() }
        context.fireChannelActive()
        if sent { context.pipeline.syncOperations.removeHandler(context: context, promise: nil) }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        _ = sendHeader(context: context)
        context.write(data, promise: promise)
    }

    /// Leaves once a flush has passed with the header (a `writeAndFlush`'s flush comes to this handler too).
    func flush(context: ChannelHandlerContext) {
        context.flush()
        if case .sent = header { context.pipeline.syncOperations.removeHandler(context: context, promise: nil) }
    }
}

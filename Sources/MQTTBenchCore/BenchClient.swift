import MQTTCodec
import NIOCore
import NIOPosix

/// Opens benchmark client connections: round-robin over targets and local source addresses.
///
/// Binding client sockets to several 127.0.0.x addresses multiplies the ephemeral ports available towards one
/// target (each source address has its own range). `IP_BIND_ADDRESS_NO_PORT` defers the port choice to
/// `connect()`, so a bound socket does not reserve its port for every destination.
public struct BenchConnector: Sendable {
    /// Where clients connect (the proxy's listener, or the upstream(s) directly).
    public var targets: [SocketAddress]
    /// Local addresses to bind before connecting; empty means let the kernel choose.
    public var sources: [SocketAddress]
    /// How long a TCP connect may take.
    public var connectTimeout: TimeAmount = .seconds(5)

    /// Creates a connector.
    public init(targets: [SocketAddress], sources: [SocketAddress]) {
        precondition(!targets.isEmpty, "at least one target")
        self.targets = targets
        self.sources = sources
    }

    /// `count` loopback source addresses 127.0.2.1, 127.0.2.2, … (port 0).
    public static func loopbackSources(count: Int) throws -> [SocketAddress] {
        try (0..<count).map { index in
            try SocketAddress(ipAddress: "127.0.\(2 + index / 250).\(1 + index % 250)", port: 0)
        }
    }

    /// Opens connection number `sequence` on `eventLoop` with `handler` as its only handler.
    public func connect(
        sequence: Int,
        on eventLoop: any EventLoop,
        handler: @escaping @Sendable () -> any ChannelHandler
    ) -> EventLoopFuture<any Channel> {
        let noPort = ChannelOptions.Types.SocketOption(level: .ip, name: NIOBSDSocket.Option(rawValue: 24))
        var bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(handler())
                }
            }
        if !sources.isEmpty {
            bootstrap = bootstrap.channelOption(noPort, value: 1).bind(to: sources[sequence % sources.count])
        }
        return bootstrap.connect(to: targets[sequence % targets.count])
    }
}

/// Errors seen by a benchmark client connection.
public enum BenchClientError: Error, Sendable, Equatable {
    /// The server answered the CONNECT with something else, or a refusal.
    case badConnack(String)
    /// The connection closed before the CONNACK.
    case closedBeforeConnack
    /// No CONNACK within the scenario's limit.
    case connackTimeout
    /// The server sent bytes that are not MQTT.
    case malformed(String)
}

/// Client side of one benchmark connection: sends CONNECT when active, completes `connack` on the CONNACK,
/// then hands each incoming PUBLISH to `onPublish` (echo scenarios).
public final class BenchClientHandler: ChannelInboundHandler {
    public typealias InboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    private let connect: ByteBuffer
    private let connack: EventLoopPromise<Void>
    private let onPublish: ((MQTTFrame) -> Void)?
    private var cumulation = ByteBuffer()
    private var connected = false

    /// Creates the handler; `connect` is written as soon as the channel is active.
    public init(connect: ByteBuffer, connack: EventLoopPromise<Void>, onPublish: ((MQTTFrame) -> Void)? = nil) {
        self.connect = connect
        self.connack = connack
        self.onPublish = onPublish
    }

    public func channelActive(context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(connect), promise: nil)
        context.fireChannelActive()
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        cumulation.writeBuffer(&buffer)
        do {
            while let frame = try MQTTFrameDecoder.nextFrame(in: &cumulation, maxPacketSize: 1 << 24) {
                handle(frame, context: context)
            }
        } catch {
            fail(.malformed("\(error)"), context: context)
        }
        cumulation.discardReadBytes()
    }

    private func handle(_ frame: MQTTFrame, context: ChannelHandlerContext) {
        switch frame.type {
        case .connack where !connected:
            // Byte 1 of the body is the 3.1.1 return code or the MQTT 5 reason code; 0 is success in both.
            guard frame.body.getInteger(at: frame.body.readerIndex + 1, as: UInt8.self) == 0 else {
                fail(.badConnack("refused: \(Array(frame.body.readableBytesView))"), context: context)
                return
            }
            connected = true
            connack.succeed(())
        case .publish:
            onPublish?(frame)
        case .pingresp:
            break
        default:
            if !connected {
                fail(.badConnack("\(frame.type) instead of CONNACK"), context: context)
            }
        }
    }

    private func fail(_ error: BenchClientError, context: ChannelHandlerContext) {
        if !connected {
            connected = true
            connack.fail(error)
        }
        context.close(promise: nil)
    }

    public func channelInactive(context: ChannelHandlerContext) {
        if !connected {
            connected = true
            connack.fail(BenchClientError.closedBeforeConnack)
        }
        context.fireChannelInactive()
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !connected {
            connected = true
            connack.fail(error)
        }
        context.close(promise: nil)
    }
}

/// After the CONNACK: writes `batch` (many PUBLISH packets) over and over until `deadline`, only while the
/// channel is writable, yielding the event loop between bursts so other connections on it get their turn.
public final class PublishPump: ChannelInboundHandler {
    public typealias InboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    private let batch: ByteBuffer
    private let deadline: NIODeadline
    private var scheduled = false
    /// Bytes handed to the channel so far.
    public private(set) var bytesWritten = 0

    /// Creates a pump that stops at `deadline`.
    public init(batch: ByteBuffer, deadline: NIODeadline) {
        self.batch = batch
        self.deadline = deadline
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        pump(context: context)
    }

    public func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            pump(context: context)
        }
        context.fireChannelWritabilityChanged()
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Nothing is expected back in a sink run; drop whatever comes.
    }

    private func pump(context: ChannelHandlerContext) {
        guard NIODeadline.now() < deadline else { return }
        var bursts = 0
        while context.channel.isWritable && bursts < 8 {
            context.writeAndFlush(wrapOutboundOut(batch), promise: nil)
            bytesWritten += batch.readableBytes
            bursts += 1
        }
        // Still writable after 8 bursts: the socket keeps up; come back after other channels had a turn.
        if context.channel.isWritable && !scheduled {
            scheduled = true
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            context.eventLoop.execute {
                let (pump, context) = loopBound.value
                pump.scheduled = false
                pump.pump(context: context)
            }
        }
    }
}

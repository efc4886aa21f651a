import Atomics
import MQTTCodec
import NIOCore
import NIOPosix
import ProxyProtocol

/// Counters of a ``TestUpstream``, shared by all its connections and readable from any thread.
public final class UpstreamCounters: Sendable {
    /// CONNECTs answered with a CONNACK.
    public let connects = ManagedAtomic<Int>(0)
    /// Connections currently open.
    public let openConnections = ManagedAtomic<Int>(0)
    /// PUBLISH packets whose fixed header arrived.
    public let publishes = ManagedAtomic<Int>(0)
    /// Bytes received after the CONNECT (the PUBLISH stream, pings, DISCONNECT).
    public let bytes = ManagedAtomic<Int>(0)
    /// PUBLISH packets written back in echo mode.
    public let echoed = ManagedAtomic<Int>(0)
    /// Connections that started with a PROXY protocol header.
    public let proxyHeaders = ManagedAtomic<Int>(0)

    /// Creates zeroed counters.
    public init() {}

    /// A consistent-enough copy of all counters (each is read atomically).
    public var snapshot: Snapshot {
        Snapshot(
            connects: connects.load(ordering: .relaxed),
            openConnections: openConnections.load(ordering: .relaxed),
            publishes: publishes.load(ordering: .relaxed),
            bytes: bytes.load(ordering: .relaxed),
            echoed: echoed.load(ordering: .relaxed)
        )
    }

    /// The counters at one moment.
    public struct Snapshot: Sendable, Equatable, Codable {
        public var connects: Int
        public var openConnections: Int
        public var publishes: Int
        public var bytes: Int
        public var echoed: Int
    }
}

/// A fast MQTT upstream for benchmarks: answers every CONNECT with a CONNACK in the client's format, answers
/// PINGREQ, closes on DISCONNECT, and either counts and discards PUBLISH (sink) or writes it back (echo).
///
/// It keeps no session state and never parses a PUBLISH body, so the proxy in front of it is what is measured.
public final class TestUpstream: Sendable {
    /// What the upstream does with PUBLISH packets.
    public enum Mode: String, Sendable {
        case sink, echo
    }

    /// The shared counters.
    public let counters = UpstreamCounters()
    /// The mode of every connection.
    public let mode: Mode
    private let channels: [any Channel]

    /// Listens on each of `addresses` (SO_REUSEADDR, backlog 4096) on `group`.
    public init(addresses: [SocketAddress], mode: Mode, group: any EventLoopGroup) async throws {
        self.mode = mode
        let counters = self.counters
        var channels: [any Channel] = []
        for address in addresses {
            let channel = try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .serverChannelOption(.backlog, value: 4096)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(UpstreamHandler(mode: mode, counters: counters))
                    }
                }
                .bind(to: address)
                .get()
            channels.append(channel)
        }
        self.channels = channels
    }

    /// The addresses actually bound (useful with port 0).
    public var localAddresses: [SocketAddress] { channels.compactMap(\.localAddress) }

    /// Stops listening; open connections are closed when their event loops shut down.
    public func close() async {
        for channel in channels {
            try? await channel.close()
        }
    }
}

/// One upstream connection: waits for a whole CONNECT, answers it, then scans (sink) or frames (echo) the rest.
final class UpstreamHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let mode: TestUpstream.Mode
    private let counters: UpstreamCounters
    /// Bytes of a CONNECT not yet complete (nil once answered), or of a partial echoed packet.
    private var pending: ByteBuffer?
    private var connected = false
    private var headerSeen = false
    private var scanner = MQTTFramingTracker()

    init(mode: TestUpstream.Mode, counters: UpstreamCounters) {
        self.mode = mode
        self.counters = counters
    }

    func channelActive(context: ChannelHandlerContext) {
        counters.openConnections.wrappingIncrement(ordering: .relaxed)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        counters.openConnections.wrappingDecrement(ordering: .relaxed)
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        if !connected {
            if var pending {
                pending.writeBuffer(&buffer)
                buffer = pending
            }
            // A PROXY protocol header (a proxy sending one, as in `bench.sh --proxy-protocol`) goes first; a
            // CONNECT starts with 0x10, so there is nothing to guess.
            if !headerSeen, let first = buffer.readableBytesView.first, first == 0x0D || first == UInt8(ascii: "P") {
                switch ProxyHeaderDecoder.decode(buffer) {
                case .needMoreBytes:
                    pending = buffer
                    return
                case .malformed:
                    context.close(promise: nil)
                    return
                case .complete(_, let length):
                    headerSeen = true
                    buffer.moveReaderIndex(forwardBy: length)
                    counters.proxyHeaders.wrappingIncrement(ordering: .relaxed)
                }
            }
            switch ConnectDecoder.decode(buffer) {
            case .needMoreBytes:
                pending = buffer
                return
            case .malformed:
                context.close(promise: nil)
                return
            case .complete(let packet):
                pending = nil
                connected = true
                counters.connects.wrappingIncrement(ordering: .relaxed)
                buffer.moveReaderIndex(forwardBy: packet.byteCount)
                let connack = ConnackEncoder.accept(protocolLevel: packet.protocolLevel)
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: connack)), promise: nil)
            }
        }
        guard buffer.readableBytes > 0 else { return }
        counters.bytes.wrappingIncrement(by: buffer.readableBytes, ordering: .relaxed)
        switch mode {
        case .sink: sink(buffer, context: context)
        case .echo: echo(buffer, context: context)
        }
    }

    /// Counts packets by their fixed headers, answers PINGREQ, closes after DISCONNECT.
    private func sink(_ buffer: ByteBuffer, context: ChannelHandlerContext) {
        var publishes = 0
        var pings = 0
        var sawDisconnect = false
        do {
            try scanner.scan(buffer) { first, _, _ in
                switch first >> 4 {
                case MQTTPacketType.publish.rawValue: publishes += 1
                case MQTTPacketType.pingreq.rawValue: pings += 1
                case MQTTPacketType.disconnect.rawValue: sawDisconnect = true
                default: break
                }
            }
        } catch {
            context.close(promise: nil)
            return
        }
        if publishes > 0 {
            counters.publishes.wrappingIncrement(by: publishes, ordering: .relaxed)
        }
        for _ in 0..<pings {
            context.write(wrapOutboundOut(BenchPackets.pingresp), promise: nil)
        }
        if pings > 0 {
            context.flush()
        }
        if sawDisconnect {
            context.close(promise: nil)
        }
    }

    /// Writes every whole PUBLISH back as it came (one flush per read); keeps a partial packet for later.
    private func echo(_ buffer: ByteBuffer, context: ChannelHandlerContext) {
        var buffer = buffer
        if var pending {
            pending.writeBuffer(&buffer)
            buffer = pending
            self.pending = nil
        }
        var publishes = 0
        var wrote = false
        while true {
            let start = buffer.readerIndex
            let frame: MQTTFrame?
            do {
                frame = try MQTTFrameDecoder.nextFrame(in: &buffer, maxPacketSize: 1 << 24)
            } catch {
                context.close(promise: nil)
                return
            }
            guard let frame else { break }
            switch frame.type {
            case .publish:
                publishes += 1
                // Re-read the whole packet (fixed header included) as a slice: no copy.
                let length = buffer.readerIndex - start
                buffer.moveReaderIndex(to: start)
                let bytes = buffer.readSlice(length: length)!
                context.write(wrapOutboundOut(bytes), promise: nil)
                wrote = true
            case .pingreq:
                context.write(wrapOutboundOut(BenchPackets.pingresp), promise: nil)
                wrote = true
            case .disconnect:
                context.close(promise: nil)
                return
            default:
                break
            }
        }
        if buffer.readableBytes > 0 {
            pending = buffer
        }
        if publishes > 0 {
            counters.publishes.wrappingIncrement(by: publishes, ordering: .relaxed)
            counters.echoed.wrappingIncrement(by: publishes, ordering: .relaxed)
        }
        if wrote {
            context.flush()
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

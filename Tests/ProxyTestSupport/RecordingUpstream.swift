import MQTTCodec
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// A broker stand-in for tests: records the client id of every CONNECT it receives and the raw bytes of
/// each connection, answers with a greeting, then echoes everything back.
public final class RecordingUpstream: Sendable {
    /// What the upstream sends once a CONNECT has arrived.
    public enum Greeting: Sendable {
        /// `hello world`, as APISIX's own test upstream answers.
        case helloWorld
        /// A CONNACK accepting the session, in the client's protocol version.
        case connack
        /// A 3.1.1 CONNACK refusing with this return code, then the close (a broker denying the client).
        case refuse(UInt8)
    }

    public struct Record: Sendable {
        public var clientID: String?
        /// Everything received (after the PROXY header, when there is one).
        public var bytes: [UInt8]
        /// The PROXY protocol header the connection started with (when the upstream expects one).
        public var proxyHeader: [UInt8]?
    }

    public let host: String
    private let boundPort = NIOLockedValueBox(0)
    /// The port it listens on.
    public var port: Int { boundPort.withLockedValue { $0 } }
    private let channel: NIOLockedValueBox<Channel?> = NIOLockedValueBox(nil)
    private let nextKey = NIOLockedValueBox(0)
    private let records = NIOLockedValueBox([Int: Record]())
    private let order = NIOLockedValueBox([Int]())
    private let children = NIOLockedValueBox([Int: Channel]())

    private init(host: String) { self.host = host }

    /// Starts listening on `host` (any 127.x address) and a free port.
    /// With `proxyHeader`, every connection must start with a PROXY v1 or v2 header (as a broker with
    /// `enable_proxy_protocol` wants): it is recorded apart, and the CONNECT is looked for after it.
    public static func start(host: String = "127.0.0.1", port: Int = 0, greeting: Greeting = .helloWorld,
                             tls: NIOSSLContext? = nil, proxyHeader: Bool = false,
                             group: EventLoopGroup) async throws -> RecordingUpstream
    {
        let upstream = RecordingUpstream(host: host)
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { ch in
                // A counter, not the channel's identity: a closed channel's address can be reused by the next one.
                let key = upstream.nextKey.withLockedValue { n -> Int in
                    n += 1
                    return n
                }
                upstream.children.withLockedValue { $0[key] = ch }
                upstream.records.withLockedValue { $0[key] = Record(clientID: nil, bytes: []) }
                upstream.order.withLockedValue { $0.append(key) }
                return ch.eventLoop.makeCompletedFuture {
                    if proxyHeader {
                        try ch.pipeline.syncOperations.addHandler(HeaderStripper { header in
                            upstream.records.withLockedValue { $0[key]?.proxyHeader = header }
                        })
                    }
                    if let tls { try ch.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                    try ch.pipeline.syncOperations.addHandler(Handler(upstream: upstream, key: key, greeting: greeting))
                }
            }
            .bind(host: host, port: port).get()
        upstream.boundPort.withLockedValue { $0 = server.localAddress?.port ?? 0 }
        upstream.channel.withLockedValue { $0 = server }
        return upstream
    }

    /// `ip:port` as the balancer names this node.
    public var address: String { "\(host):\(port)" }

    /// Client ids of the CONNECTs received, in arrival order (nil for an empty id).
    public var clientIDs: [String?] {
        let keys = order.withLockedValue { $0 }
        return records.withLockedValue { r in keys.compactMap { r[$0] }.filter { !$0.bytes.isEmpty }.map(\.clientID) }
    }

    /// Raw bytes of every connection, in arrival order.
    public var connections: [Record] {
        let keys = order.withLockedValue { $0 }
        return records.withLockedValue { r in keys.compactMap { r[$0] } }
    }

    /// Forgets every connection recorded so far (open ones too).
    public func forget() {
        order.withLockedValue { $0 = [] }
        records.withLockedValue { $0 = [:] }
    }

    /// Connections currently open.
    public var openCount: Int { children.withLockedValue { $0.count } }

    /// Resets every open connection (SO_LINGER 0, then close: the peer gets an RST).
    public func resetAll() async {
        for ch in children.withLockedValue({ Array($0.values) }) {
            try? await (ch as? SocketOptionProvider)?.setSoLinger(linger(l_onoff: 1, l_linger: 0)).get()
            try? await ch.close()
        }
    }

    /// Closes every open connection normally (FIN).
    public func closeAll() async {
        for ch in children.withLockedValue({ Array($0.values) }) { try? await ch.close() }
    }

    /// Stops listening and drops every connection.
    public func stop() async {
        if let server = channel.withLockedValue({ $0 }) { try? await server.close() }
        for ch in children.withLockedValue({ Array($0.values) }) { try? await ch.close() }
    }

    fileprivate func received(_ key: Int, bytes: [UInt8]) -> [UInt8] {
        records.withLockedValue { r in
            r[key]?.bytes.append(contentsOf: bytes)
            return r[key]?.bytes ?? []
        }
    }

    fileprivate func setClientID(_ key: Int, _ id: String?) {
        records.withLockedValue { $0[key]?.clientID = id }
    }

    fileprivate func closed(_ key: Int) {
        _ = children.withLockedValue { $0.removeValue(forKey: key) }
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let upstream: RecordingUpstream
        let key: Int
        let greeting: Greeting
        var greeted = false

        init(upstream: RecordingUpstream, key: Int, greeting: Greeting) {
            self.upstream = upstream
            self.key = key
            self.greeting = greeting
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var buf = unwrapInboundIn(data)
            let bytes = buf.readBytes(length: buf.readableBytes) ?? []
            let all = upstream.received(key, bytes: bytes)
            if !greeted {
                let whole = context.channel.allocator.buffer(bytes: all)
                if case .complete(let packet) = ConnectDecoder.decode(whole, maxPacketSize: 1 << 20) {
                    greeted = true
                    upstream.setClientID(key, packet.clientID.isEmpty ? nil : packet.clientID)
                    let reply: [UInt8]
                    switch greeting {
                    case .helloWorld: reply = Array("hello world".utf8)
                    case .connack: reply = ConnackEncoder.accept(protocolLevel: packet.protocolLevel)
                    case .refuse(let code):
                        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: [0x20, 0x02, 0x00, code])))
                            .assumeIsolated().whenComplete { _ in context.close(promise: nil) }
                        return
                    }
                    context.write(wrapOutboundOut(context.channel.allocator.buffer(bytes: reply)), promise: nil)
                    let rest = Array(all[packet.byteCount...])
                    if !rest.isEmpty {
                        context.write(wrapOutboundOut(context.channel.allocator.buffer(bytes: rest)), promise: nil)
                    }
                    context.flush()
                } else if case .malformed = ConnectDecoder.decode(whole, maxPacketSize: 1 << 20) {
                    greeted = true
                    context.writeAndFlush(wrapOutboundOut(whole), promise: nil)
                }
                return
            }
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: bytes)), promise: nil)
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if let e = event as? ChannelEvent, case .inputClosed = e { context.close(mode: .output, promise: nil) }
        }

        func channelInactive(context: ChannelHandlerContext) {
            upstream.closed(key)
        }

        func errorCaught(context: ChannelHandlerContext, error: Error) {
            context.close(promise: nil)
        }
    }

    /// Takes the PROXY header off the front of a connection: the bytes up to its end (a v1 line's CRLF, or a v2
    /// header's 16 + length bytes) are handed to `record`, the rest passed on.
    private final class HeaderStripper: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = ByteBuffer
        typealias InboundOut = ByteBuffer
        private var buffer = ByteBuffer()
        private let record: @Sendable ([UInt8]) -> Void

        init(record: @escaping @Sendable ([UInt8]) -> Void) {
            self.record = record
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var incoming = unwrapInboundIn(data)
            buffer.writeBuffer(&incoming)
            let bytes = Array(buffer.readableBytesView)
            var length: Int?
            if bytes.count >= 16, bytes[0] == 0x0D, bytes[12] >> 4 == 2 {
                let total = 16 + (Int(bytes[14]) << 8 | Int(bytes[15]))
                if bytes.count >= total { length = total }
            } else if let lf = bytes.firstIndex(of: 0x0A) {
                length = lf + 1
            }
            guard let length else { return }
            record(Array(bytes[..<length]))
            buffer.moveReaderIndex(forwardBy: length)
            if buffer.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(buffer)) }
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
    }
}

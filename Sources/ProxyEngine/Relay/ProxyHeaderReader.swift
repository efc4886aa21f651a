import NIOCore
import ProxyProtocol

/// What the `ProxyHeaderReader` found, told to the handlers after it as a user inbound event.
enum ProxyHeaderEvent: Sendable {
    case received(ProxyHeader)
    case malformed(String)
}

/// First on a `proxy_protocol` listener's connections, ahead of TLS: holds the connection's bytes until a whole
/// PROXY v1 or v2 header has arrived, tells it (`ProxyHeaderEvent`), passes the rest on and leaves the pipeline.
/// A malformed or over-long header is told instead and nothing is passed on; the front handler closes.
final class ProxyHeaderReader: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private var buffer: ByteBuffer?
    private var done = false
    /// The longest header accepted (the preread limit).
    private let maxLength: Int

    init(maxLength: Int) {
        self.maxLength = maxLength
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !done else { return }
        var incoming = unwrapInboundIn(data)
        buffer.append(&incoming)
        guard let buffered = buffer else { return }
        switch ProxyHeaderDecoder.decode(buffered, maxLength: maxLength) {
        case .needMoreBytes:
            if buffered.readableBytes > maxLength {
                fail(context: context, "PROXY protocol header longer than \(maxLength) bytes")
            }
        case .malformed(let reason):
            fail(context: context, reason)
        case .complete(let header, let length):
            done = true
            var rest = buffered
            rest.moveReaderIndex(forwardBy: length)
            buffer = nil
            context.fireUserInboundEventTriggered(ProxyHeaderEvent.received(header))
            if rest.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(rest)) }
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
    }

    private func fail(context: ChannelHandlerContext, _ reason: String) {
        done = true
        buffer = nil
        context.fireUserInboundEventTriggered(ProxyHeaderEvent.malformed(reason))
    }
}

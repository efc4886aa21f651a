import NIOCore
import NIOSSL
import NIOTLS

extension FrontendHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { begin(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        begin(context: context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        switch state {
        case .handshaking, .connecting:
            buffer(&incoming)
        case .prereading:
            buffer(&incoming)
            examineConnect(context: context)
        case .relaying:
            context.fireChannelRead(data)
        case .idle, .awaitingProxyHeader, .closed, .modifying:
            // (The PROXY header reader passes bytes on only after telling the header.)
            return
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        clientWentAway(context: context)
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted = event {
            handshakeCompleted(context: context)
        }
        if let event = event as? ProxyHeaderEvent {
            switch event {
            case .received(let header): proxyHeaderReceived(context: context, header)
            case .malformed(let reason): reject(context: context, .proxyProtocolMalformed, reason, reply: nil)
            }
            return
        }
        if let event = event as? ChannelEvent, case .inputClosed = event {
            switch state {
            case .prereading, .awaitingProxyHeader:
                clientWentAway(context: context)
                context.close(promise: nil)
            default:
                break
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if case .handshaking = state {
            handshakeFailed(context: context, error: error)
            return
        }
        logger.debug("client error before relay: \(error)")
        context.close(promise: nil)
    }

    func read(context: ChannelHandlerContext) {
        guard case .connecting(var connecting) = state,
              (connecting.buffer?.readableBytes ?? 0) > FrontendHandler.pendingLimit
        else {
            context.read()
            return
        }
        state = .modifying
        connecting.readPending = true
        state = .connecting(connecting)
    }
}

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
        switch phase {
        case .prereading, .connecting, .handshaking:
            if buffer == nil {
                buffer = incoming
            } else {
                buffer!.writeBuffer(&incoming)
            }
            if phase == .prereading { examineConnect(context: context) }
        case .relaying:
            context.fireChannelRead(data)
        case .matching, .closed:
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
        if let event = event as? ChannelEvent, case .inputClosed = event, phase == .prereading {
            clientWentAway(context: context)
            context.close(promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if phase == .handshaking {
            handshakeFailed(context: context, error: error)
            return
        }
        logger.debug("client error before relay: \(error)")
        context.close(promise: nil)
    }

    func read(context: ChannelHandlerContext) {
        if (buffer?.readableBytes ?? 0) > FrontendHandler.pendingLimit {
            readPending = true
        } else {
            context.read()
        }
    }
}

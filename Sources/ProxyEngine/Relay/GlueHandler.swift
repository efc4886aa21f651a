import NIOCore

/// One side of a relay: forwards what its channel reads to the partner channel, passes half-closes on, and
/// only reads while the partner can take more (backpressure).
final class GlueHandler {
    /// Which way this side's reads flow.
    enum Side {
        /// Reads from the client, writes to the broker.
        case client
        /// Reads from the broker, writes to the client.
        case broker
    }

    private var partner: GlueHandler?
    private var context: ChannelHandlerContext?
    private var pendingRead = false
    private let side: Side
    private let relay: RelayState

    private init(side: Side, relay: RelayState) {
        self.side = side
        self.relay = relay
    }

    /// A connected pair: add `.client` to the client channel and `.broker` to the broker channel.
    static func pair(relay: RelayState) -> (client: GlueHandler, broker: GlueHandler) {
        let client = GlueHandler(side: .client, relay: relay)
        let broker = GlueHandler(side: .broker, relay: relay)
        client.partner = broker
        broker.partner = client
        return (client, broker)
    }

    private func partnerWrite(_ data: NIOAny) {
        context?.write(data, promise: nil)
    }

    private func partnerFlush() {
        context?.flush()
    }

    private func partnerWriteEOF() {
        context?.close(mode: .output, promise: nil)
    }

    private func partnerCloseFull() {
        context?.close(promise: nil)
    }

    private func partnerBecameWritable() {
        if pendingRead {
            pendingRead = false
            context?.read()
        }
    }

    private var partnerWritable: Bool {
        context?.channel.isWritable ?? false
    }

    /// Closes both halves, recording why.
    func closeBoth(reason: String) {
        relay.noteClose(reason)
        context?.close(promise: nil)
        partner?.context?.close(promise: nil)
    }
}

extension GlueHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        partner = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let count = unwrapInboundIn(data).readableBytes
        switch side {
        case .client: relay.live.addIn(count)
        case .broker: relay.live.addOut(count)
        }
        relay.lastActivity = .now()
        partner?.partnerWrite(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        partner?.partnerFlush()
    }

    func channelInactive(context: ChannelHandlerContext) {
        relay.noteClose(side == .client ? "client closed" : "broker closed")
        partner?.partnerCloseFull()
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, case .inputClosed = event {
            relay.noteClose(side == .client ? "client closed" : "broker closed")
            partner?.partnerWriteEOF()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        relay.noteClose("\(side == .client ? "client" : "broker") error: \(error)")
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            partner?.partnerBecameWritable()
        }
        context.fireChannelWritabilityChanged()
    }

    func read(context: ChannelHandlerContext) {
        if partner?.partnerWritable ?? false {
            context.read()
        } else {
            pendingRead = true
        }
    }
}

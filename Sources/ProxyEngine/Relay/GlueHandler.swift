import MQTTCodec
import NIOCore
import ProxyControl

/// One side of a relay: forwards what its channel reads to the partner channel, passes half-closes on, and
/// only reads while the partner can take more (backpressure).
///
/// On MQTT routes each side follows the packet framing of what it reads (`MQTTFramingTracker`: fixed headers
/// only), so that a relay can be ended cleanly: a DISCONNECT is only ever written between two packets. The broker
/// side also reads the code of the broker's CONNACK as it passes.
final class GlueHandler {
    /// Which way this side's reads flow.
    enum Side {
        /// Reads from the client, writes to the broker.
        case client
        /// Reads from the broker, writes to the client.
        case broker
    }

    /// Ending the relay: what this side sends its partner once its own stream is at a packet boundary.
    struct Ending {
        var farewell: [UInt8]?
        var done = false
    }

    /// Where the broker side is in reading the first CONNACK's code.
    enum ConnackWatch {
        /// Before the first packet's fixed header.
        case header
        /// The code is this many bytes further on.
        case skip(Int)
        case done
    }

    private var partner: GlueHandler?
    private var context: ChannelHandlerContext?
    private var pendingRead = false
    let side: Side
    let relay: RelayState
    private var framing: MQTTFramingTracker?
    private var ending: Ending?
    private var connack: ConnackWatch

    private init(side: Side, relay: RelayState) {
        self.side = side
        self.relay = relay
        framing = relay.clientLevel == nil ? nil : MQTTFramingTracker()
        connack = side == .broker && relay.clientLevel != nil ? .header : .done
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

    /// Whether the partner's channel is closed (or going): nothing read can be forwarded any more.
    private var partnerGone: Bool {
        !(context?.channel.isActive ?? false)
    }

    /// Closes both halves, recording why.
    func closeBoth(_ cause: DisconnectCause, _ detail: String? = nil) {
        relay.noteClose(cause, detail)
        context?.close(promise: nil)
        partner?.context?.close(promise: nil)
    }

    // MARK: - Framing and the broker's CONNACK

    /// Follows the framing of `buffer` (and, on the broker side, picks the CONNACK's code out of it).
    private func track(_ buffer: ByteBuffer) {
        guard framing != nil else { return }
        let count = buffer.readableBytes
        var codeAt: Int?
        if case .skip(let n) = connack {
            if n < count {
                codeAt = n
                connack = .done
            } else {
                connack = .skip(n - count)
            }
        }
        do {
            if case .header = connack {
                var watch = ConnackWatch.header
                try framing!.scan(buffer) { first, length, bodyOffset in
                    guard case .header = watch else { return }
                    watch = first == 0x20 && length >= 2 ? .skip(bodyOffset + 1) : .done
                }
                if case .skip(let n) = watch, n < count {
                    codeAt = n
                    watch = .done
                } else if case .skip(let n) = watch {
                    watch = .skip(n - count)
                }
                connack = watch
            } else {
                try framing!.scan(buffer) { _, _, _ in }
            }
        } catch {
            // Not MQTT after all: relayed as bytes; an ending then closes without a DISCONNECT.
            framing = nil
            connack = .done
            return
        }
        if let codeAt {
            relay.connackSeen(buffer.getInteger(at: buffer.readerIndex + codeAt, as: UInt8.self) ?? 0xFF)
        }
    }

    // MARK: - Ending at packet boundaries

    /// Starts ending the relay (eviction or shutdown); call on the client side.
    func beginEnding(_ cause: RelayEnding) {
        guard ending == nil, let partner else { return }
        let (why, detail) = cause.disconnect
        relay.noteClose(why, detail)
        let (toClient, toBroker) = cause.farewells(clientLevel: relay.clientLevel)
        ending = Ending(farewell: toBroker)
        partner.ending = Ending(farewell: toClient)
        for glue in [self, partner] where glue.framing?.isAtBoundary ?? true {
            glue.finishStream()
        }
        guard !relay.endingFinished else { return }
        // A side mid-packet must read on to the packet's end, whatever its partner's backlog.
        context?.read()
        partner.context?.read()
        context?.eventLoop.assumeIsolated().scheduleTask(in: GlueHandler.endingGrace) { [self] in
            closeBoth(why, detail + " (a packet did not end in time)")
        }
    }

    /// How long a side may take to reach the end of the packet it is in when the relay ends.
    static let endingGrace = TimeAmount.seconds(3)

    /// This side's stream reached a packet boundary: it sends its farewell and forwards nothing more.
    private func finishStream() {
        guard var e = ending, !e.done else { return }
        e.done = true
        ending = e
        if partner?.ending?.done == true { finishEnding() }
    }

    /// Both streams are at a boundary: write the farewells, then close both channels once they are out.
    private func finishEnding() {
        guard let partner, !relay.endingFinished else { return }
        relay.endingFinished = true
        let (client, broker) = side == .client ? (self, partner) : (partner, self)
        guard let clientContext = client.context, let brokerContext = broker.context else { return }
        let toBroker = client.ending?.farewell ?? []
        let toClient = broker.ending?.farewell ?? []
        let brokerWrite = brokerContext.writeAndFlush(NIOAny(brokerContext.channel.allocator.buffer(bytes: toBroker)))
        let clientWrite = clientContext.writeAndFlush(NIOAny(clientContext.channel.allocator.buffer(bytes: toClient)))
        brokerWrite.and(clientWrite).assumeIsolated().whenComplete { _ in
            clientContext.close(promise: nil)
            brokerContext.close(promise: nil)
        }
    }

    /// While ending: forwards only what completes the current packet; the rest is dropped.
    private func readWhileEnding(_ buffer: ByteBuffer) {
        guard let e = ending, !e.done else { return }
        guard framing != nil else { return finishStream() }
        let upTo: Int?
        do { upTo = try framing!.scanToBoundary(buffer) } catch {
            framing = nil
            return finishStream()
        }
        guard let upTo else {
            partner?.partnerWrite(NIOAny(buffer))
            return
        }
        if upTo > 0, let head = buffer.getSlice(at: buffer.readerIndex, length: upTo) {
            partner?.partnerWrite(NIOAny(head))
        }
        finishStream()
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
        let buffer = unwrapInboundIn(data)
        let count = buffer.readableBytes
        switch side {
        case .client: relay.live.addIn(count)
        case .broker: relay.live.addOut(count)
        }
        relay.lastActivity = .now()
        if ending != nil { return readWhileEnding(buffer) }
        track(buffer)
        partner?.partnerWrite(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        partner?.partnerFlush()
        if ending?.done == false { context.read() }
    }

    func channelInactive(context: ChannelHandlerContext) {
        relay.noteClose(side == .client ? .clientClosed : .brokerClosed)
        partner?.partnerCloseFull()
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, case .inputClosed = event {
            relay.noteClose(side == .client ? .clientClosed : .brokerClosed, "half-closed")
            if relay.halfClosedSince == nil { relay.halfClosedSince = .now() }
            partner?.partnerWriteEOF()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard let ending = event as? RelayEnding else {
            return context.triggerUserOutboundEvent(event, promise: promise)
        }
        if side == .client { beginEnding(ending) } else { partner?.beginEnding(ending) }
        promise?.succeed()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        relay.noteClose(DisconnectCause.of(error, client: side == .client), "\(side == .client ? "client" : "broker"): \(error)")
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            partner?.partnerBecameWritable()
        }
        context.fireChannelWritabilityChanged()
    }

    func read(context: ChannelHandlerContext) {
        // With the partner gone, reading goes on: what comes is dropped, but a TLS close_notify or the peer's
        // FIN has to be seen for this side to finish closing.
        if ending != nil || partner?.partnerWritable ?? true || partner?.partnerGone ?? true {
            context.read()
        } else {
            pendingRead = true
        }
    }
}

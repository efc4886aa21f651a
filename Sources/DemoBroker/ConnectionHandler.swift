import Logging
import MQTTCodec
import NIOCore

/// The handler of one client connection, behind `ByteToMessageHandler(MQTTFrameDecoder)`: runs the
/// `ConnectionStateMachine`, talks to the `BrokerCore`, and watches the CONNECT timeout and the keep-alive.
final class ConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = MQTTFrame
    typealias OutboundOut = ByteBuffer

    /// How long a new connection may take to send its CONNECT.
    static let connectTimeout = TimeAmount.seconds(10)

    private let core: BrokerCore
    private let connection: Int
    private var machine = ConnectionStateMachine()
    private var logger: Logger
    private var clientID: String?
    /// Silence allowed before the connection is closed: the CONNECT timeout, then 1.5 × keep-alive (nil for 0).
    private var silenceLimit: TimeAmount? = ConnectionHandler.connectTimeout
    private var lastPacket = NIODeadline.now()
    private var timer: Scheduled<Void>?
    /// Whether the will is published when the connection ends (not after a normal DISCONNECT).
    private var publishWill = true
    /// Why the connection ends, for the `disconnected` event.
    private var closeReason = "connection closed"

    init(core: BrokerCore, connection: Int, logger: Logger) {
        self.core = core
        self.connection = connection
        self.logger = logger
        self.logger[metadataKey: "connection"] = "\(connection)"
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if let remote = context.channel.remoteAddress {
            logger[metadataKey: "remote"] = "\(remote.ipAddress ?? "?"):\(remote.port ?? 0)"
        }
        if context.channel.isActive { armTimer(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        // A kill can come between the accept and the channel's registration, when closing it does nothing yet.
        guard core.isOpen(connection) else {
            closeReason = "broker killed"
            context.close(promise: nil)
            return
        }
        if timer == nil { armTimer(context: context) }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastPacket = .now()
        let frame = unwrapInboundIn(data)
        perform(machine.frameReceived(frame, assignClientID: core.assignClientID), context: context)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if let framing = error as? MQTTFrameError {
            perform(machine.framingFailed(framing.reason), context: context)
        } else {
            logger.debug("connection error", metadata: ["error": "\(error)"])
            closeReason = "connection error: \(error)"
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        machine.closed()
        core.connectionClosed(connection, publishWill: publishWill, reason: closeReason)
        if clientID != nil { logger.debug("client disconnected", metadata: ["reason": "\(closeReason)"]) }
        context.fireChannelInactive()
    }

    // MARK: - Actions

    private func perform(_ action: ConnectionStateMachine.Action, context: ChannelHandlerContext) {
        switch action {
        case .accept(let packet, let clientID, let connack):
            guard core.register(connection: connection, packet: packet, clientID: clientID,
                                channel: context.channel) == .accepted
            else {
                context.close(promise: nil)
                return
            }
            self.clientID = clientID
            logger[metadataKey: "client_id"] = "\(clientID)"
            logger.debug("client connected", metadata: [
                "protocol_level": "\(packet.protocolLevel)", "keep_alive": "\(packet.keepAlive)",
            ])
            write(connack, context: context)
            context.flush()
            silenceLimit = packet.keepAlive == 0 ? nil : .milliseconds(Int64(packet.keepAlive) * 1500)
            timer?.cancel()
            armTimer(context: context)
        case .refuse(let connack, let reason):
            logger.notice("CONNECT refused", metadata: ["reason": "\(reason)"])
            closeReason = reason
            writeThenClose(connack, context: context)
        case .reply(let bytes):
            write(bytes, context: context)
            context.flush()
        case .publish(let packet, let ack):
            core.publish(packet, from: connection, clientID: clientID ?? "")
            if let ack {
                write(ack, context: context)
                context.flush()
            }
        case .subscribe(let packet):
            guard let (codes, retained) = core.subscribe(packet, connection: connection),
                  let level = machine.protocolLevel
            else {
                context.close(promise: nil)
                return
            }
            write(PacketEncoder.suback(packetID: packet.packetID, codes: codes, protocolLevel: level), context: context)
            for message in retained {
                context.write(wrapOutboundOut(message), promise: nil)
            }
            context.flush()
        case .unsubscribe(let packet):
            let codes = core.unsubscribe(packet, connection: connection)
            guard let level = machine.protocolLevel else { return }
            let unsuback = PacketEncoder.unsuback(packetID: packet.packetID, codes: codes, protocolLevel: level)
            write(unsuback, context: context)
            context.flush()
        case .disconnect(let publishWill):
            self.publishWill = publishWill
            closeReason = "DISCONNECT"
            context.close(promise: nil)
        case .fail(let violation, let disconnect):
            logger.warning("closing connection: \(violation)")
            closeReason = violation.description
            if let disconnect {
                writeThenClose(disconnect, context: context)
            } else {
                context.close(promise: nil)
            }
        case .none:
            break
        }
    }

    private func write(_ bytes: [UInt8], context: ChannelHandlerContext) {
        context.write(wrapOutboundOut(context.channel.allocator.buffer(bytes: bytes)), promise: nil)
    }

    private func writeThenClose(_ bytes: [UInt8], context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: bytes)))
            .assumeIsolated()
            .whenComplete { _ in context.close(promise: nil) }
    }

    // MARK: - Silence

    /// Fires when the allowed silence since the last packet is over; re-arms itself while packets keep coming.
    private func armTimer(context: ChannelHandlerContext) {
        guard let limit = silenceLimit else {
            timer = nil
            return
        }
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: lastPacket + limit) { [self] in
            guard let limit = silenceLimit, context.channel.isActive else { return }
            if NIODeadline.now() < lastPacket + limit {
                armTimer(context: context)
            } else {
                silenceExpired(limit: limit, context: context)
            }
        }
    }

    private func silenceExpired(limit: TimeAmount, context: ChannelHandlerContext) {
        let seconds = Double(limit.nanoseconds) / 1e9
        if case .awaitingConnect = machine.state {
            closeReason = "no CONNECT within \(seconds) s"
            logger.notice("closing connection: \(closeReason)")
            machine.closed()
            context.close(promise: nil)
            return
        }
        closeReason = "keep-alive expired (silent for \(seconds) s)"
        logger.notice("closing connection: \(closeReason)")
        if let disconnect = machine.keepAliveExpired() {
            writeThenClose(disconnect, context: context)
        } else {
            context.close(promise: nil)
        }
    }
}

import MQTTCodec
import NIOCore

/// The protocol side of one client connection, as a state machine in the style of SwiftNIO's: the handler
/// feeds it packets and performs the action it returns. It owns no I/O and no broker state.
///
/// States: `awaitingConnect → connected → closed`. A refused CONNECT, a DISCONNECT and any protocol
/// violation lead to `closed`, where every later packet is ignored.
struct ConnectionStateMachine {
    enum State {
        /// Accepted; the first packet must be a CONNECT.
        case awaitingConnect
        /// The CONNECT was accepted.
        case connected(Connected)
        /// Closing or closed: nothing more is processed.
        case closed
    }

    /// What a connected client has established.
    struct Connected {
        var clientID: String
        var protocolLevel: UInt8
        /// Identifiers of QoS 2 PUBLISHes already routed and not yet released by a PUBREL: a retransmission
        /// with one of them is acknowledged again but not routed again.
        var pendingQoS2: Set<UInt16> = []
    }

    /// What the handler must do next.
    enum Action {
        /// Register the session under `clientID`, send `connack`, then watch the keep-alive.
        case accept(ConnectPacket, clientID: String, connack: [UInt8])
        /// Send `connack` (a refusal), then close.
        case refuse(connack: [UInt8], reason: String)
        /// Send these bytes.
        case reply([UInt8])
        /// Route the message to the subscribers, then send `ack` if there is one.
        case publish(PublishPacket, ack: [UInt8]?)
        /// Add the subscriptions, send the SUBACK, then the matching retained messages.
        case subscribe(SubscribePacket)
        /// Remove the subscriptions and send the UNSUBACK.
        case unsubscribe(UnsubscribePacket)
        /// The client said goodbye: close, and publish the will only when `publishWill`.
        case disconnect(publishWill: Bool)
        /// Close because of `violation`, after sending `disconnect` (MQTT 5 clients) when present.
        case fail(ProtocolViolation, disconnect: [UInt8]?)
        /// Nothing to do.
        case none
    }

    private(set) var state = State.awaitingConnect

    /// The client's protocol level once its CONNECT was accepted.
    var protocolLevel: UInt8? {
        if case .connected(let connected) = state { return connected.protocolLevel }
        return nil
    }

    /// A packet arrived; `assignClientID` names clients that sent an empty client id.
    mutating func frameReceived(_ frame: MQTTFrame, assignClientID: () -> String) -> Action {
        switch state {
        case .awaitingConnect:
            guard frame.type == .connect else { return fail(.notConnect(frame.type)) }
            return connectReceived(frame, assignClientID: assignClientID)
        case .connected(var connected):
            do throws(ProtocolViolation) {
                let action = try packetReceived(frame, &connected)
                if case .connected = state { state = .connected(connected) }
                return action
            } catch {
                return fail(error)
            }
        case .closed:
            return .none
        }
    }

    /// The byte stream could not be split into packets.
    mutating func framingFailed(_ reason: String) -> Action {
        if case .closed = state { return .none }
        return fail(.framing(reason))
    }

    /// The client was silent for too long: close, with DISCONNECT 0x8D for MQTT 5 clients.
    mutating func keepAliveExpired() -> [UInt8]? {
        let level = protocolLevel
        state = .closed
        return level == 5 ? DisconnectEncoder.v5(reasonCode: .keepAliveTimeout) : nil
    }

    /// The connection is closed.
    mutating func closed() {
        state = .closed
    }

    // MARK: - CONNECT

    private mutating func connectReceived(_ frame: MQTTFrame, assignClientID: () -> String) -> Action {
        var whole = ByteBuffer()
        frame.write(to: &whole)
        let packet: ConnectPacket
        switch ConnectDecoder.decode(whole, maxPacketSize: Int.max) {
        case .complete(let decoded):
            packet = decoded
        case .needMoreBytes:
            return fail(.badConnect("CONNECT ends inside its fields"))
        case .malformed(let error):
            guard error.protocolLevel == 5 else { return fail(.badConnect(error.description)) }
            return refuse(ConnackEncoder.connack(reasonCode: .malformedPacket), "bad CONNECT: \(error)")
        }
        let level = packet.protocolLevel
        switch (packet.protocolName, level) {
        case ("MQIsdp", 3), ("MQTT", 4), ("MQTT", 5):
            break
        default:
            return refuse(ConnackEncoder.rejectVersion(forClientLevel: level),
                          "unsupported protocol \(packet.protocolName)/\(level)")
        }
        if packet.properties.contains(where: { $0.identifier == .authenticationMethod }) {
            return refuse(ConnackEncoder.connack(reasonCode: .badAuthenticationMethod),
                          "MQTT 5 enhanced authentication is not supported")
        }
        var clientID = packet.clientID
        var properties: [MQTTProperty] = []
        if clientID.isEmpty {
            switch level {
            case 5:
                clientID = assignClientID()
                properties = [MQTTProperty(.assignedClientIdentifier, .string(clientID))]
            case 4 where packet.flags.contains(.cleanStart):
                clientID = assignClientID()
            default:
                return refuse(ConnackEncoder.reject(forClientLevel: level, v3: .identifierRejected,
                                                    v5: .clientIdentifierNotValid),
                              "empty client id without clean session")
            }
        }
        state = .connected(Connected(clientID: clientID, protocolLevel: level))
        return .accept(packet, clientID: clientID,
                       connack: ConnackEncoder.accept(protocolLevel: level, properties: properties))
    }

    private mutating func refuse(_ connack: [UInt8], _ reason: String) -> Action {
        state = .closed
        return .refuse(connack: connack, reason: reason)
    }

    // MARK: - After CONNECT

    private mutating func packetReceived(_ frame: MQTTFrame, _ connected: inout Connected) throws(ProtocolViolation)
        -> Action
    {
        let level = connected.protocolLevel
        switch frame.type {
        case .publish:
            let packet = try decoded { () throws(MQTTPacketError) in try PublishPacket.decode(frame, protocolLevel: level) }
            if packet.properties.contains(where: { $0.identifier == .topicAlias }) { throw .topicAlias }
            switch (packet.qos, packet.packetID) {
            case (1, let id?):
                return .publish(packet, ack: PacketEncoder.ack(.puback, packetID: id))
            case (2, let id?):
                let ack = PacketEncoder.ack(.pubrec, packetID: id)
                return connected.pendingQoS2.insert(id).inserted ? .publish(packet, ack: ack) : .reply(ack)
            default:
                return .publish(packet, ack: nil)
            }
        case .pubrel:
            var reader = MQTTPacketReader(frame)
            let id = try decoded { () throws(MQTTPacketError) in try reader.readPacketID() }
            connected.pendingQoS2.remove(id)
            return .reply(PacketEncoder.ack(.pubcomp, packetID: id))
        case .puback, .pubrec, .pubcomp:
            // Acknowledgements of what the broker sent: nothing is retransmitted, so nothing to settle.
            return .none
        case .subscribe:
            return .subscribe(try decoded { () throws(MQTTPacketError) in
                try SubscribePacket.decode(frame, protocolLevel: level)
            })
        case .unsubscribe:
            return .unsubscribe(try decoded { () throws(MQTTPacketError) in
                try UnsubscribePacket.decode(frame, protocolLevel: level)
            })
        case .pingreq:
            return .reply(PacketEncoder.pingresp)
        case .disconnect:
            var reader = MQTTPacketReader(frame)
            let reason = level == 5 && reader.remaining > 0
                ? try decoded { () throws(MQTTPacketError) in try reader.readUInt8("reason code") } : 0
            state = .closed
            return .disconnect(publishWill: reason == ReasonCode.disconnectWithWillMessage.rawValue)
        case .connect:
            throw .secondConnect
        case .connack, .suback, .unsuback, .pingresp, .auth:
            throw .unexpected(frame.type)
        }
    }

    /// Runs a codec step, turning its error into this broker's violation.
    private func decoded<T>(_ step: () throws(MQTTPacketError) -> T) throws(ProtocolViolation) -> T {
        do { return try step() } catch { throw .packet(error) }
    }

    private mutating func fail(_ violation: ProtocolViolation) -> Action {
        let level = protocolLevel
        state = .closed
        return .fail(violation, disconnect: level == 5 ? DisconnectEncoder.v5(reasonCode: violation.reasonCode) : nil)
    }
}

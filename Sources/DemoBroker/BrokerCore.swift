import Logging
import MQTTCodec
import NIOConcurrencyHelpers
import NIOCore

/// A message on its way through the broker, independent of the protocol version of any client.
struct BrokerMessage: Sendable {
    var topic: String
    var payload: ByteBuffer
    var qos: UInt8
    var retain: Bool
    /// MQTT 5 properties forwarded to MQTT 5 subscribers.
    var properties: [MQTTProperty]

    /// The PUBLISH that delivers this message.
    func packet(qos: UInt8, retain: Bool, packetID: UInt16?) -> PublishPacket {
        PublishPacket(topic: topic, payload: payload, qos: qos, retain: retain, packetID: packetID,
                      properties: properties)
    }
}

/// What the connections of one broker share: sessions, subscriptions, retained messages and counters, behind
/// one lock. Packets are encoded under the lock (they are small) and written after it is released.
///
/// Connections belong to an *epoch*: `kill` starts a new one, and whatever an older connection reports
/// afterwards (a late CONNECT, its close) no longer touches the broker's state.
final class BrokerCore: Sendable {
    /// The broker side of a connected client.
    struct Session {
        let connection: Int
        let clientID: String
        let protocolLevel: UInt8
        let channel: Channel
        /// MQTT 5 Maximum Packet Size of the client; larger messages are not sent to it.
        let maximumPacketSize: Int
        /// Published when the connection ends without a normal DISCONNECT.
        let will: BrokerMessage?
        /// Topic filter → options, with the QoS already reduced to the granted one.
        var subscriptions: [String: SubscriptionOptions] = [:]
        var lastPacketID: UInt16 = 0

        /// The next packet identifier for a QoS 1 PUBLISH to this client (1...65535, wrapping).
        mutating func nextPacketID() -> UInt16 {
            lastPacketID = lastPacketID == .max ? 1 : lastPacketID + 1
            return lastPacketID
        }
    }

    struct State {
        var epoch = 0
        var accepting = false
        var lastConnection = 0
        /// Every accepted connection of the current epoch, before and after its CONNECT.
        var connections: [Int: Channel] = [:]
        var sessions: [String: Session] = [:]
        var clientOfConnection: [Int: String] = [:]
        var retained: [String: BrokerMessage] = [:]
        var lastAssignedID = 0
        var connectsTotal = 0
        var messagesIn = 0
        var messagesOut = 0
        /// Frozen: connections are accepted but nothing is read from them (like a broker under SIGSTOP).
        var hung = false
    }

    /// The outcome of a CONNECT.
    enum Registration {
        /// The session is registered.
        case accepted
        /// The broker was killed since this connection was accepted.
        case brokerDown
    }

    let name: String
    let logger: Logger
    let events = EventHub()
    private let state = NIOLockedValueBox(State())

    init(name: String, logger: Logger) {
        self.name = name
        self.logger = logger
    }

    /// Reads the state under the lock.
    func read<T>(_ body: (State) -> T) -> T {
        state.withLockedValue { body($0) }
    }

    // MARK: - Epochs and connections

    /// Starts a new epoch whose connections are accepted; returns it.
    func openEpoch() -> Int {
        state.withLockedValue { s in
            s.epoch += 1
            s.accepting = true
            return s.epoch
        }
    }

    /// Ends the current epoch: forgets every connection and session and returns the channels to close.
    func closeEpoch(reason: String) -> [Channel] {
        let (channels, clients) = state.withLockedValue { s in
            s.epoch += 1
            s.accepting = false
            let channels = Array(s.connections.values)
            let clients = s.sessions.keys.sorted()
            s.connections = [:]
            s.sessions = [:]
            s.clientOfConnection = [:]
            return (channels, clients)
        }
        for client in clients {
            events.emit(.disconnected(clientID: client, reason: reason))
        }
        return channels
    }

    /// Freezes or thaws the broker; returns every connection's channel, whose reading must follow.
    func setHung(_ hung: Bool) -> [Channel] {
        state.withLockedValue { s in
            s.hung = hung
            return Array(s.connections.values)
        }
    }

    /// Registers an accepted connection of `epoch`; nil when that epoch is over (the caller closes it).
    func accept(_ channel: Channel, epoch: Int) -> Int? {
        state.withLockedValue { s in
            guard s.accepting, s.epoch == epoch else { return nil }
            s.lastConnection += 1
            s.connections[s.lastConnection] = channel
            return s.lastConnection
        }
    }

    /// Whether `connection` still belongs to the running broker (a kill or stop forgets every connection).
    func isOpen(_ connection: Int) -> Bool {
        state.withLockedValue { $0.connections[connection] != nil }
    }

    /// A client id for a client that sent an empty one, unique within this broker.
    func assignClientID() -> String {
        let number = state.withLockedValue { s in
            s.lastAssignedID += 1
            return s.lastAssignedID
        }
        return "\(name)-auto-\(number)"
    }

    /// Registers the session of a CONNECT; an older session with the same client id is taken over: its
    /// connection is closed (after a DISCONNECT 0x8E for MQTT 5) and its will published.
    func register(connection: Int, packet: ConnectPacket, clientID: String, channel: Channel) -> Registration {
        var maximumPacketSize = Int.max
        for property in packet.properties {
            if property.identifier == .maximumPacketSize, case .fourByteInteger(let size) = property.value {
                maximumPacketSize = Int(size)
            }
        }
        let will = packet.will.map {
            BrokerMessage(topic: $0.topic, payload: ByteBuffer(bytes: $0.payload), qos: min(packet.flags.willQoS, 1),
                          retain: packet.flags.contains(.willRetain), properties: [])
        }
        let session = Session(connection: connection, clientID: clientID, protocolLevel: packet.protocolLevel,
                              channel: channel, maximumPacketSize: maximumPacketSize, will: will)
        let previous: Session?? = state.withLockedValue { s in
            guard s.connections[connection] != nil else { return .none }
            let previous = s.sessions.updateValue(session, forKey: clientID)
            if let previous {
                s.clientOfConnection[previous.connection] = nil
                s.connections[previous.connection] = nil
            }
            s.clientOfConnection[connection] = clientID
            s.connectsTotal += 1
            return .some(previous)
        }
        guard case .some(let taken) = previous else { return .brokerDown }
        if let taken {
            logger.info("client id taken over by a new connection", metadata: ["client_id": "\(clientID)"])
            events.emit(.disconnected(clientID: clientID, reason: "taken over by a new connection"))
            let old = taken.channel
            if taken.protocolLevel == 5 {
                let bytes = DisconnectEncoder.v5(reasonCode: .sessionTakenOver)
                old.writeAndFlush(old.allocator.buffer(bytes: bytes)).whenComplete { _ in old.close(promise: nil) }
            } else {
                old.close(promise: nil)
            }
            if let will = taken.will { route(will, from: taken.connection, clientID: clientID) }
        }
        events.emit(.connected(clientID: clientID))
        return .accepted
    }

    /// The connection is gone: forgets it and its session, publishing the will when `publishWill`.
    func connectionClosed(_ connection: Int, publishWill: Bool, reason: String) {
        let session: Session? = state.withLockedValue { s in
            s.connections[connection] = nil
            guard let clientID = s.clientOfConnection.removeValue(forKey: connection) else { return nil }
            return s.sessions.removeValue(forKey: clientID)
        }
        guard let session else { return }
        events.emit(.disconnected(clientID: session.clientID, reason: reason))
        if publishWill, let will = session.will {
            route(will, from: connection, clientID: session.clientID)
        }
    }

    // MARK: - Messages

    /// Handles a PUBLISH: updates the retained message of its topic and sends it to every matching subscriber.
    func publish(_ packet: PublishPacket, from connection: Int, clientID: String) {
        let properties = packet.properties.filter { $0.identifier != .topicAlias }
        let message = BrokerMessage(topic: packet.topic, payload: packet.payload, qos: packet.qos,
                                    retain: packet.retain, properties: properties)
        state.withLockedValue { $0.messagesIn += 1 }
        route(message, from: connection, clientID: clientID)
    }

    /// Stores `message` when it is retained, then writes it to every session with a matching subscription.
    ///
    /// Each session gets one copy at min(message QoS, highest granted QoS of its matching filters).
    private func route(_ message: BrokerMessage, from connection: Int, clientID: String) {
        let deliveries: [(Channel, ByteBuffer)] = state.withLockedValue { s in
            if message.retain {
                if message.payload.readableBytes == 0 {
                    s.retained[message.topic] = nil
                } else {
                    s.retained[message.topic] = message
                }
            }
            var out: [(Channel, ByteBuffer)] = []
            for key in s.sessions.keys {
                guard var session = s.sessions[key] else { continue }
                var grant: UInt8?
                var keepRetain = false
                for (filter, options) in session.subscriptions
                where TopicFilter.matches(filter: filter, topic: message.topic) {
                    if options.noLocal && session.connection == connection { continue }
                    grant = max(grant ?? 0, options.qos)
                    keepRetain = keepRetain || options.retainAsPublished
                }
                guard let grant else { continue }
                let qos = min(grant, message.qos)
                let packetID = qos > 0 ? session.nextPacketID() : nil
                let bytes = message.packet(qos: qos, retain: keepRetain && message.retain, packetID: packetID)
                    .encoded(protocolLevel: session.protocolLevel)
                s.sessions[key] = session
                if bytes.readableBytes <= session.maximumPacketSize {
                    out.append((session.channel, bytes))
                }
            }
            s.messagesOut += out.count
            return out
        }
        for (channel, bytes) in deliveries {
            channel.writeAndFlush(bytes, promise: nil)
        }
        logger.debug("published", metadata: [
            "topic": "\(message.topic)", "client_id": "\(clientID)", "recipients": "\(deliveries.count)",
        ])
        events.emit(.published(topic: message.topic, clientID: clientID, recipients: deliveries.count))
    }

    /// Adds subscriptions; returns the SUBACK return codes and the retained messages to send after it, or nil
    /// when the session is gone.
    func subscribe(_ packet: SubscribePacket, connection: Int) -> (codes: [UInt8], retained: [ByteBuffer])? {
        let result: (codes: [UInt8], retained: [ByteBuffer], clientID: String, filters: [String])? =
            state.withLockedValue { s in
                guard let clientID = s.clientOfConnection[connection], var session = s.sessions[clientID] else {
                    return nil
                }
                let v5 = session.protocolLevel == 5
                var codes: [UInt8] = []
                var retained: [ByteBuffer] = []
                var filters: [String] = []
                for request in packet.requests {
                    let (filter, requested) = (request.filter, request.options)
                    guard MQTTTopic.isValidFilter(filter) else {
                        codes.append(v5 ? 0x8F : 0x80)
                        continue
                    }
                    if v5 && filter.hasPrefix("$share/") {
                        codes.append(0x9E)
                        continue
                    }
                    var options = requested
                    options.qos = min(requested.qos, 1)
                    let isNew = session.subscriptions.updateValue(options, forKey: filter) == nil
                    codes.append(options.qos)
                    filters.append(filter)
                    guard options.retainHandling == 0 || (options.retainHandling == 1 && isNew) else { continue }
                    for message in s.retained.values where TopicFilter.matches(filter: filter, topic: message.topic) {
                        let qos = min(message.qos, options.qos)
                        let packetID = qos > 0 ? session.nextPacketID() : nil
                        let bytes = message.packet(qos: qos, retain: true, packetID: packetID)
                            .encoded(protocolLevel: session.protocolLevel)
                        if bytes.readableBytes <= session.maximumPacketSize { retained.append(bytes) }
                    }
                }
                s.sessions[clientID] = session
                s.messagesOut += retained.count
                return (codes, retained, clientID, filters)
            }
        guard let result else { return nil }
        if !result.filters.isEmpty {
            events.emit(.subscribed(clientID: result.clientID, filters: result.filters))
        }
        return (result.codes, result.retained)
    }

    /// Removes subscriptions; returns the MQTT 5 UNSUBACK reason codes (0x00 removed, 0x11 there was none).
    func unsubscribe(_ packet: UnsubscribePacket, connection: Int) -> [UInt8] {
        state.withLockedValue { s in
            guard let clientID = s.clientOfConnection[connection], var session = s.sessions[clientID] else {
                return packet.filters.map { _ in 0x11 }
            }
            let codes: [UInt8] = packet.filters.map {
                session.subscriptions.removeValue(forKey: $0) == nil ? 0x11 : 0x00
            }
            s.sessions[clientID] = session
            return codes
        }
    }
}

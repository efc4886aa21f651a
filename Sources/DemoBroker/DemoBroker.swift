import Logging
import MQTTCodec
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A small in-process MQTT broker for demos and tests, listening on one TCP port.
///
/// Speaks MQTT 3.1, 3.1.1 and 5 to its own clients: CONNECT, PING, SUBSCRIBE / UNSUBSCRIBE with `+` and `#`
/// filters, PUBLISH at QoS 0, 1 and 2 (subscriptions are granted at most QoS 1), retained messages and wills.
/// Sessions are never persisted (every session behaves as a clean one) and in-flight QoS 1 messages are not
/// retransmitted. Malformed input closes only the connection that sent it.
///
/// `kill()` simulates a crash: the listening socket and every connection close at once, so connecting is
/// refused until `revive()` listens again on the same port. Retained messages survive a kill, as if the
/// broker had persisted them.
public final class DemoBroker: Sendable {
    /// Where the listener is in its life.
    private enum Lifecycle {
        case running(Channel)
        /// `revive()` is binding the listener again.
        case reviving
        case killed
        case stopped
    }

    /// The largest packet a client may send (16 MiB); a larger one closes its connection.
    public static let maximumPacketSize = 16 << 20

    /// The name given at start, used in logs and in assigned client ids (`<name>-auto-<n>`).
    public let name: String
    /// The IP address the broker listens on.
    public let host: String
    /// The TCP port the broker listens on (the one picked by the system when started with port 0).
    public let port: Int

    private let group: EventLoopGroup
    private let logger: Logger
    private let core: BrokerCore
    private let lifecycle: NIOLockedValueBox<Lifecycle>

    private init(name: String, host: String, port: Int, group: EventLoopGroup, logger: Logger, core: BrokerCore,
                 listener: Channel)
    {
        self.name = name
        self.host = host
        self.port = port
        self.group = group
        self.logger = logger
        self.core = core
        self.lifecycle = NIOLockedValueBox(.running(listener))
    }

    /// Starts a broker listening on `host:port`; port 0 picks a free port.
    public static func start(name: String, host: String = "127.0.0.1", port: Int = 0, group: EventLoopGroup,
                             logger: Logger) async throws -> DemoBroker
    {
        var logger = logger
        logger[metadataKey: "broker"] = "\(name)"
        let core = BrokerCore(name: name, logger: logger)
        let listener = try await bind(core: core, name: name, host: host, port: port, group: group, logger: logger)
        let address = listener.localAddress
        let broker = DemoBroker(name: name, host: address?.ipAddress ?? host, port: address?.port ?? port,
                                group: group, logger: logger, core: core, listener: listener)
        logger.info("demo broker listening", metadata: ["address": "\(broker.address)"])
        return broker
    }

    /// Opens a new epoch and binds a listener whose connections belong to it.
    /// `retryInUse` tries a port that is in use again, every 50 ms for up to two seconds.
    private static func bind(core: BrokerCore, name: String, host: String, port: Int, group: EventLoopGroup,
                             logger: Logger, retryInUse: Bool = false) async throws -> Channel
    {
        var tries = retryInUse ? 40 : 0
        while true {
            do {
                return try await bindOnce(core: core, host: host, port: port, group: group, logger: logger)
            } catch let error as IOError where error.errnoCode == EADDRINUSE && tries > 0 {
                tries -= 1
                try? await Task.sleep(for: .milliseconds(50))
            } catch {
                throw DemoBrokerError.bindFailed(name: name, host: host, port: port, reason: "\(error)")
            }
        }
    }

    private static func bindOnce(core: BrokerCore, host: String, port: Int, group: EventLoopGroup,
                                 logger: Logger) async throws -> Channel
    {
        let epoch = core.openEpoch()
        do {
            return try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { channel in
                    guard let connection = core.accept(channel, epoch: epoch) else {
                        return channel.close()
                    }
                    let hung = core.read { $0.hung }
                    return channel.eventLoop.makeCompletedFuture {
                        if hung { try channel.syncOptions?.setOption(.autoRead, value: false) }
                        let pipeline = channel.pipeline.syncOperations
                        let decoder = MQTTFrameDecoder(maxPacketSize: maximumPacketSize)
                        try pipeline.addHandler(ByteToMessageHandler(decoder))
                        try pipeline.addHandler(ConnectionHandler(core: core, connection: connection, logger: logger))
                    }
                }
                .bind(host: host, port: port).get()
        } catch {
            _ = core.closeEpoch(reason: "listener failed")
            throw error
        }
    }

    // MARK: - Freezing

    /// Freezes the broker as a SIGSTOP would: it goes on accepting connections, and nothing is read from any of
    /// them (no CONNACK, no PINGRESP) until `unhang()`.
    public func hang() async {
        for channel in core.setHung(true) { try? await channel.setOption(.autoRead, value: false) }
        logger.notice("demo broker frozen", metadata: ["address": "\(address)"])
    }

    /// Lets a frozen broker read and answer again; what its clients sent meanwhile is handled then.
    public func unhang() async {
        for channel in core.setHung(false) { try? await channel.setOption(.autoRead, value: true) }
        logger.notice("demo broker answers again", metadata: ["address": "\(address)"])
    }

    /// Whether the broker is frozen.
    public var isHung: Bool { core.read { $0.hung } }

    // MARK: - Observability

    /// `ip:port`, e.g. `127.0.0.1:40213` (`[::1]:40213` for IPv6), as an upstream node names the broker.
    public var address: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// Whether the broker is listening (false after `kill()` or `stop()`, until `revive()` succeeds).
    public var isRunning: Bool {
        lifecycle.withLockedValue { if case .running = $0 { true } else { false } }
    }

    /// Client ids of the connected clients, sorted.
    public var connectedClients: [String] { core.read { $0.sessions.keys.sorted() } }

    /// Number of connected clients (those whose CONNECT was accepted).
    public var clientCount: Int { core.read { $0.sessions.count } }

    /// CONNECTs accepted since the broker started, takeovers and revivals included.
    public var connectsTotal: Int { core.read { $0.connectsTotal } }

    /// PUBLISH packets received from clients.
    public var messagesIn: Int { core.read { $0.messagesIn } }

    /// PUBLISH packets sent to subscribers, retained messages included.
    public var messagesOut: Int { core.read { $0.messagesOut } }

    /// Topics that currently have a retained message, sorted.
    public var retainedTopics: [String] { core.read { $0.retained.keys.sorted() } }

    /// A stream of what happens from now on, one per caller; it ends at `stop()`. A stream nobody reads
    /// keeps only the newest 1,000 events.
    public func events() -> AsyncStream<DemoBrokerEvent> {
        core.events.stream()
    }

    // MARK: - Kill, revive, stop

    /// Closes the listener and every client connection at once, as a crash would. Connecting is refused until
    /// `revive()`. Wills are not published. Does nothing when the broker is not running.
    public func kill() async {
        let previous = transition(to: .killed)
        switch previous {
        case .running(let listener): await closeAll(listener: listener, reason: "broker killed")
        case .reviving: await closeAll(listener: nil, reason: "broker killed")
        case .killed, .stopped: return
        }
        logger.notice("demo broker killed", metadata: ["address": "\(address)"])
        core.events.emit(.killed)
    }

    /// Listens again on the same port after `kill()`. Does nothing when the broker is running. A port that is
    /// briefly in use (another socket on this machine took it while the broker was down) is tried again for up to
    /// two seconds before the error is thrown.
    public func revive() async throws {
        let proceed: Bool = try lifecycle.withLockedValue { state in
            switch state {
            case .running, .reviving: return false
            case .stopped: throw DemoBrokerError.stopped(name: name)
            case .killed:
                state = .reviving
                return true
            }
        }
        guard proceed else { return }
        let listener: Channel
        do {
            listener = try await Self.bind(core: core, name: name, host: host, port: port, group: group, logger: logger,
                                           retryInUse: true)
        } catch {
            lifecycle.withLockedValue { if case .reviving = $0 { $0 = .killed } }
            throw error
        }
        let installed: Bool = lifecycle.withLockedValue { state in
            guard case .reviving = state else { return false }
            state = .running(listener)
            return true
        }
        guard installed else {
            // kill() or stop() came while binding: their epoch change already refuses this listener's clients.
            try? await listener.close()
            throw DemoBrokerError.reviveInterrupted(name: name)
        }
        logger.notice("demo broker revived", metadata: ["address": "\(address)"])
        core.events.emit(.revived)
    }

    /// Final shutdown: closes the listener and every connection and ends the event streams. `revive()` is no
    /// longer possible.
    public func stop() async {
        switch transition(to: .stopped) {
        case .running(let listener): await closeAll(listener: listener, reason: "broker stopped")
        case .reviving: await closeAll(listener: nil, reason: "broker stopped")
        case .killed, .stopped: break
        }
        core.events.finish()
    }

    /// Moves to `next` (a stopped broker stays stopped) and returns the state it left.
    private func transition(to next: Lifecycle) -> Lifecycle {
        lifecycle.withLockedValue { state in
            let previous = state
            if case .stopped = state { return previous }
            state = next
            return previous
        }
    }

    /// Closes the listener first (so connecting is refused), then every connection of the current epoch.
    private func closeAll(listener: Channel?, reason: String) async {
        let connections = core.closeEpoch(reason: reason)
        if let listener { try? await listener.close() }
        await withTaskGroup(of: Void.self) { tasks in
            for connection in connections {
                tasks.addTask { try? await connection.close() }
            }
        }
    }
}

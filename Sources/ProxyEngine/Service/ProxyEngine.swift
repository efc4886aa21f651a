import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ProxyControl
import ProxyModel
import RouteStore

/// Why the engine could not start.
public enum EngineError: Error, CustomStringConvertible {
    case bindFailed(listener: String, reason: String)
    case unsupported(String)

    public var description: String {
        switch self {
        case .bindFailed(let l, let r): return "cannot listen on \(l): \(r)"
        case .unsupported(let m): return m
        }
    }
}

/// The proxy engine: stream listeners, the live route table, and the registry of relayed connections.
public final class ProxyEngine: Sendable {
    let registry: ConnectionRegistry
    /// The idle timers of the relays, one per event loop.
    let idleWatches = IdleWatches()
    public let settings: EngineSettings
    let logger: Logger
    let group: EventLoopGroup
    let compiler: RouteCompiler
    let resolver: NodeResolver
    /// Health checks and drains of the brokers.
    let health: HealthMonitor
    /// Set when the relays are being ended for good.
    let shutdown = ShutdownState()
    /// Open client connections against `max_connections`.
    let admission: Admission
    /// The descriptor limit, raised at start.
    let budget: DescriptorBudget
    /// The store's status as last told (`EngineService` follows it).
    let storeStatus = NIOLockedValueBox<StoreStatus?>(nil)
    private let table = NIOLockedValueBox(RouteTable())
    private let servers = NIOLockedValueBox([Channel]())
    private let children = NIOLockedValueBox([ObjectIdentifier: Channel]())
    /// A descriptor held back for answering clients when accepting runs out of descriptors.
    private let reserve = DescriptorReserve()

    /// Creates an engine on `group` (one event loop per core is right for the proxy).
    public init(settings: EngineSettings, group: EventLoopGroup, logger: Logger,
                resolver: NodeResolver = NodeResolver(), metrics: EngineMetrics = EngineMetrics())
    {
        self.settings = settings
        self.group = group
        self.logger = logger
        self.resolver = resolver
        let registry = ConnectionRegistry(eventCapacity: settings.eventBufferSize, metrics: metrics)
        self.registry = registry
        // Probes run on NIO's shared loops, never on the relays' own.
        health = HealthMonitor(registry: registry, logger: logger, instance: settings.resolvedInstanceID,
                               loop: MultiThreadedEventLoopGroup.singleton.next())
        self.compiler = RouteCompiler(resolver: resolver, tls: settings.tls, health: health)
        budget = DescriptorBudget.process
        admission = Admission(maxConnections: settings.maxConnections, budget: budget)
    }

    /// The route table new connections are matched against.
    public var routeTable: RouteTable { table.withLockedValue { $0 } }

    /// Builds a route table from store content (resolving node names off the event loops) and makes it live.
    /// A table from an older store revision than the live one is ignored.
    @discardableResult
    public func apply(_ snapshot: StoreSnapshot) async -> RouteTable {
        let compiler = self.compiler
        let (compiled, problems) = await withCheckedContinuation { (cont: CheckedContinuation<(RouteTable, [String]), Never>) in
            DispatchQueue.global().async {
                cont.resume(returning: compiler.compile(snapshot.resources, version: snapshot.revision))
            }
        }
        for p in problems {
            logger.error("\(p)")
            registry.record(.error, message: p)
        }
        let installed = table.withLockedValue { current -> Bool in
            guard compiled.version >= current.version else { return false }
            current = compiled
            return true
        }
        if installed {
            health.install(compiled.routes.map(\.status))
            logger.info("route table version \(compiled.version): \(compiled.routes.count) stream route(s)")
        }
        return compiled
    }

    /// Re-resolves node names; when an answer changed, rebuilds the table from `snapshot`.
    public func refreshDNS(_ snapshot: StoreSnapshot) async {
        let resolver = self.resolver
        let changed = await withCheckedContinuation { (cont: CheckedContinuation<Bool, Never>) in
            DispatchQueue.global().async { cont.resume(returning: resolver.refresh()) }
        }
        if changed {
            registry.record(.reload, message: "DNS answers changed; route table rebuilt")
            await apply(snapshot)
        }
    }

    /// Binds every listener; returns the bound addresses (with the real port when 0 was asked for).
    @discardableResult
    public func start(listeners: [StreamListener]) async throws -> [SocketAddress] {
        var bound: [SocketAddress] = []
        var names: [String] = []
        logDescriptorBudget()
        for listener in listeners {
            let sockets: [Channel]
            do {
                sockets = try await bind(listener)
            } catch {
                throw EngineError.bindFailed(listener: listener.description, reason: "\(error)")
            }
            servers.withLockedValue { $0 += sockets }
            let channel = sockets[0]
            let reuse = sockets.count > 1 ? " (reuseport: \(sockets.count) sockets)" : ""
            if let addr = channel.localAddress {
                bound.append(addr)
                names.append("\(addr.ipAddress ?? "?"):\(addr.port ?? 0)" + (listener.tls ? " tls" : "")
                             + (listener.proxyProtocol ? " proxy_protocol" : ""))
            }
            let pp = listener.proxyProtocol
                ? " (PROXY protocol from \(settings.proxyProtocolTrusted.map(\.text).joined(separator: ", ")))" : ""
            logger.notice("stream listener on \(channel.localAddress?.description ?? listener.description)\(listener.tls ? " (TLS)" : "")\(pp)\(reuse)")
            if listener.tls, routeTable.certificates.isEmpty {
                logger.warning("TLS listener \(listener): no ssl object yet; handshakes fail until one is added")
            }
        }
        registry.setListeners(names)
        return bound
    }

    /// Binds a listener: one socket whose connections are spread over the event loops, or with `reuseport` one
    /// socket per loop, each keeping what it accepts on its own loop (the kernel spreads connections over them).
    private func bind(_ listener: StreamListener) async throws -> [Channel] {
        guard listener.reusePort else { return [try await adopt(listener, port: listener.port, group: group)] }
        var sockets: [Channel] = []
        var port = listener.port
        do {
            for loop in group.makeIterator() {
                let socket = try await adopt(listener, port: port, group: loop)
                if port == 0 { port = socket.localAddress?.port ?? 0 }  // the others join the port the first got
                sockets.append(socket)
            }
        } catch {
            for socket in sockets { try? await socket.close() }
            throw error
        }
        return sockets
    }

    /// A listening socket of our own (see `ListenSocket`) on `port`, adopted by NIO with connections spread over
    /// `group`.
    private func adopt(_ listener: StreamListener, port: Int, group: EventLoopGroup) async throws -> Channel {
        let address = try SocketAddress.makeAddressResolvingHost(listener.host, port: port)
        let backlog: Int32 = 1024
        let fd = try ListenSocket.open(address, backlog: backlog, reusePort: listener.reusePort)
        let channel: Channel
        do {
            channel = try await makeBootstrap(listener, group: group, listening: fd).withBoundSocket(fd).get()
        } catch {
            close(fd)
            throw error
        }
        ListenSocket.restoreBacklog(fd, backlog)
        return channel
    }

    private func makeBootstrap(_ listener: StreamListener, group: EventLoopGroup, listening: CInt) -> ServerBootstrap {
        let policy = ListenerPolicy(acceptsProxyHeader: listener.proxyProtocol,
                                    sendsProxyHeader: listener.proxyProtocolToUpstream,
                                    admission: ListenerAdmission(name: listener.description, limit: listener.maxConnections))
        let env = ConnectionEnvironment(registry: registry, settings: settings, logger: logger,
                                        idleWatches: idleWatches, table: { [table] in table.withLockedValue { $0 } },
                                        connector: NIOUpstreamConnector(), health: health, shutdown: shutdown,
                                        listener: policy)
        let children = self.children
        let admission = self.admission
        let (registry, logger, tls) = (self.registry, self.logger, listener.tls)
        let headerLimit = settings.prereadMaxBytes
        let reserve = self.reserve
        // What each accepted connection gets, on its own loop, before it is registered (see `ChildHandOff`).
        let setUp: @Sendable (Channel) throws -> Void = { channel in
            let key = ObjectIdentifier(channel)
            children.withLockedValue { $0[key] = channel }
            let verdict = admission.admit(policy.admission)
            channel.closeFuture.whenComplete { _ in
                admission.release(policy.admission)
                _ = children.withLockedValue { $0.removeValue(forKey: key) }
            }
            if case .closeNow(let why) = verdict {
                registry.reject(.overLimit, routeID: nil, remote: channel.remoteAddress?.ipAddress ?? "?", clientID: nil,
                                message: why + "; closed unread")
                throw ClosedOverLimit()
            }
            try ProxyEngine.setSocketOptions(channel, noDelay: !ProxyEngine.acceptedInheritNoDelay)
            let sync = channel.pipeline.syncOperations
            if policy.acceptsProxyHeader { try sync.addHandler(ProxyHeaderReader(maxLength: headerLimit)) }
            guard tls else {
                try sync.addHandler(FrontendHandler(env: env, admission: verdict))
                return
            }
            let session = TLSSession()
            let certificates: @Sendable () -> CertificateTable = { env.table().certificates }
            try sync.addHandlers(TLSAcceptHandler(session: session, certificates: certificates),
                                 FrontendHandler(env: env, tls: session, admission: verdict))
        }
        return ServerBootstrap(group: group, childGroup: group)
            .serverChannelInitializer { channel in
                // Out of descriptors, accept fails: back off instead of spinning, and count it.
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers(
                        AcceptBackoffHandler(shouldForwardIOErrorCaught: true),
                        AcceptErrorCounter(registry: registry, logger: logger, reserve: reserve, listening: listening),
                        ChildHandOff(setUp: setUp))
                }
            }
    }

    /// Logs the descriptor limit as raised, and the connection limit it gives.
    private func logDescriptorBudget() {
        let b = budget
        let raised = b.softBefore == b.soft ? "\(b.soft)" : "\(b.softBefore) → \(b.soft)"
        logger.notice("file descriptors: soft limit \(raised) (hard \(b.hard)); max_connections \(admission.limit) (\(admission.source))")
        if let asked = settings.maxConnections, asked > b.maxConnections {
            logger.warning("max_connections \(asked) is more than the descriptor limit allows (\(b.maxConnections)): past that, clients are refused as resource_exhausted")
        }
    }

    /// TCP_NODELAY, half-closure and the small read buffers, on an accepted or an upstream channel. Set directly
    /// on the channel from its initializer: the bootstraps' option lists cost a chain of futures per option and
    /// per connection (8 % of the proxy's CPU at a high connect rate).
    /// (ClientBootstrap sets TCP_NODELAY by default, so upstream channels pass `noDelay: false`.)
    static func setSocketOptions(_ channel: Channel, noDelay: Bool = true) throws {
        guard let options = channel.syncOptions else { return }
        if noDelay { try options.setOption(.tcpOption(.tcp_nodelay), value: 1) }
        try options.setOption(.allowRemoteHalfClosure, value: true)
        try options.setOption(.recvAllocator, value: receiveAllocator)
    }

    /// Linux gives accepted sockets the listening socket's TCP_NODELAY, which NIO's ServerBootstrap sets on every
    /// listener; elsewhere it is set per accepted socket.
    #if os(Linux)
    static let acceptedInheritNoDelay = true
    #else
    static let acceptedInheritNoDelay = false
    #endif

    /// Read buffers start small and grow with the traffic: each channel keeps its last read buffer for reuse,
    /// so with NIO's default (2 KiB to start) an idle relayed connection held 4 KiB of buffers on its two sockets.
    /// 128 bytes hold a typical CONNECT in one read (an id, a username and password); from 256 it saves 260 bytes
    /// per held session.
    static let receiveAllocator = AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 128, maximum: 64 * 1024)

    /// Stops accepting new connections; open relays go on.
    public func stopAccepting() async {
        let list = servers.withLockedValue { s -> [Channel] in
            defer { s = [] }
            return s
        }
        for channel in list {
            try? await channel.close()
        }
    }

    /// Closes the client connections not relayed yet (waiting for a CONNECT or a broker): on shutdown they would
    /// only be refused later.
    func closePending() {
        let relayed = Set(registry.allLiveConnections().compactMap { $0.channel.map(ObjectIdentifier.init) })
        let pending = children.withLockedValue { $0.filter { !relayed.contains($0.key) }.map(\.value) }
        for channel in pending { channel.close(promise: nil) }
    }

    /// Number of client connections still open (relayed or still being examined).
    public var openConnections: Int { children.withLockedValue { $0.count } }

    /// Waits up to `timeout` seconds for open connections to finish, then closes what is left.
    public func drain(timeout: Double) async {
        let deadline = Date().addingTimeInterval(timeout)
        while openConnections > 0, Date() < deadline {
            try? await Task.sleep(nanoseconds: 50_000_000)
        }
        let left = children.withLockedValue { Array($0.values) }
        if !left.isEmpty {
            logger.notice("closing \(left.count) connection(s) still open after \(timeout) s drain")
        }
        for channel in left { channel.close(promise: nil) }
        for channel in left { try? await channel.closeFuture.get() }
    }
}

/// Counts accepts that failed for want of descriptors (the backoff handler before it pauses accepting).
final class AcceptErrorCounter: ChannelInboundHandler {
    typealias InboundIn = Channel

    private let registry: ConnectionRegistry
    private let logger: Logger
    private let reserve: DescriptorReserve
    /// The listening socket's descriptor (open while this handler is in its pipeline).
    private let listening: CInt

    init(registry: ConnectionRegistry, logger: Logger, reserve: DescriptorReserve, listening: CInt) {
        self.registry = registry
        self.logger = logger
        self.reserve = reserve
        self.listening = listening
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireChannelRead(data)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if error is ClosedOverLimit { return }
        guard isDescriptorExhaustion(error) else {
            logger.warning("accept failed: \(error)")
            return
        }
        // The waiting clients are answered on the reserve descriptor's slot rather than left in the backlog.
        let (answered, closed) = context.channel.isActive ? reserve.shed(listening: listening) : (0, 0)
        logger.error("accept failed, out of file descriptors: \(error); \(answered) waiting client(s) told the server is unavailable, \(closed) closed before their CONNECT; pausing accepts")
        for _ in 0..<max(1, answered + closed) {
            registry.reject(.resourceExhausted, routeID: nil, remote: "?", clientID: nil,
                            message: "accept failed: out of file descriptors (\(error)); client refused")
        }
    }
}

/// Fails the set-up of a connection accepted far over the limit, so that it is closed unread.
struct ClosedOverLimit: Error {}

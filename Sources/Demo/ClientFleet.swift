import Foundation
import MQTTCodec
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Simulated MQTT clients connecting through the proxy: each sends a CONNECT, waits for the CONNACK,
/// publishes telemetry now and then, and reconnects shortly after any close; a churn timer disconnects a
/// random client every so often. Every client comes from its own loopback address (127.0.2.x), so clients
/// with an empty id spread over the nodes by address as real ones would.
///
/// All state lives on one event loop; the public methods hop onto it.
public final class ClientFleet: @unchecked Sendable {
    // @unchecked: every mutable field below is touched only on `loop`.
    struct Slot {
        var id: String
        var localIP: String
        var channel: Channel?
        var connected = false
        var generation = 0
        var publishTimer: Scheduled<Void>?
        var sequence = 0
    }

    /// Counters for the report and the tests.
    public struct Stats: Sendable, Equatable {
        public var connected: Int
        public var connects: Int
        public var closes: Int
        public var publishes: Int
        public var churned: Int
    }

    private let loop: EventLoop
    private let proxyHost: String
    /// Set by `start(proxyPort:)`.
    private var proxyPort = 0
    private let settings: DemoSettings
    private var slots: [Slot]
    private var rng: SeededRandom
    private var churnTimer: RepeatedTask?
    private var stopping = false
    private var stats = Stats(connected: 0, connects: 0, closes: 0, publishes: 0, churned: 0)

    /// Clients with `ids` ("" for an empty id), not yet connected.
    public init(ids: [String], proxyHost: String, settings: DemoSettings, loop: EventLoop) {
        self.loop = loop
        self.proxyHost = proxyHost
        self.settings = settings
        rng = SeededRandom(seed: settings.seed ^ 0xC1E7)
        slots = ids.enumerated().map { i, id in
            Slot(id: id, localIP: "127.0.2.\(i % 250 + 1)")
        }
    }

    /// Connects every client to the proxy on `proxyPort` (spread over about a second) and starts the churn.
    public func start(proxyPort: Int) {
        loop.execute { [self] in
            self.proxyPort = proxyPort
            let spread = max(1, 1000 / max(1, slots.count))
            for i in slots.indices {
                loop.assumeIsolated().scheduleTask(in: .milliseconds(Int64(i * spread))) { [self] in connect(i) }
            }
            if settings.churnPerSecond > 0 {
                let every = TimeAmount.nanoseconds(Int64(1e9 / settings.churnPerSecond))
                churnTimer = loop.scheduleRepeatedTask(initialDelay: .seconds(2), delay: every) { [self] _ in churn() }
            }
        }
    }

    /// Closes every client for good.
    public func stop() async {
        let channels: [Channel] = (try? await loop.submit { [self] in
            stopping = true
            churnTimer?.cancel()
            return slots.compactMap { slot in
                slot.publishTimer?.cancel()
                return slot.channel
            }
        }.get()) ?? []
        for channel in channels { try? await channel.close() }
    }

    /// Makes the clients with these ids reconnect (a close on their side, then the usual reconnect).
    public func reconnect(clientIDs: Set<String>) async -> Int {
        (try? await loop.submit { [self] in
            var n = 0
            for slot in slots where clientIDs.contains(slot.id) && slot.connected {
                slot.channel?.close(promise: nil)
                n += 1
            }
            return n
        }.get()) ?? 0
    }

    /// Makes clients reconnect by their local address (for clients with an empty id).
    public func reconnect(localIPs: Set<String>) async -> Int {
        (try? await loop.submit { [self] in
            var n = 0
            for slot in slots where slot.id.isEmpty && localIPs.contains(slot.localIP) && slot.connected {
                slot.channel?.close(promise: nil)
                n += 1
            }
            return n
        }.get()) ?? 0
    }

    public var currentStats: Stats {
        get async { (try? await loop.submit { [self] in stats }.get()) ?? stats }
    }

    // MARK: - On the loop

    private func connect(_ i: Int) {
        guard !stopping else { return }
        slots[i].generation += 1
        let generation = slots[i].generation
        let handler = FleetClientHandler(connect: connectBytes(slots[i].id)) { [self] accepted in
            connected(i, generation: generation, accepted: accepted)
        } onClose: { [self] in
            closed(i, generation: generation)
        }
        // Made on the loop, and the initializer runs on the same (only) loop.
        let boundHandler = NIOLoopBound(handler, eventLoop: loop)
        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(.seconds(3))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(boundHandler.value)
                }
            }
        let local = try? SocketAddress(ipAddress: slots[i].localIP, port: 0)
        (local.map { bootstrap.bind(to: $0) } ?? bootstrap)
            .connect(host: proxyHost, port: proxyPort)
            .assumeIsolated()
            .whenComplete { [self] result in
                switch result {
                case .success(let channel):
                    guard slots[i].generation == generation, !stopping else {
                        channel.close(promise: nil)
                        return
                    }
                    slots[i].channel = channel
                case .failure:
                    closed(i, generation: generation)
                }
            }
    }

    private func connected(_ i: Int, generation: Int, accepted: Bool) {
        guard slots[i].generation == generation else { return }
        guard accepted else {
            slots[i].channel?.close(promise: nil)
            return
        }
        slots[i].connected = true
        stats.connected += 1
        stats.connects += 1
        schedulePublish(i, generation: generation)
    }

    private func closed(_ i: Int, generation: Int) {
        guard slots[i].generation == generation else { return }
        if slots[i].connected {
            stats.connected -= 1
            stats.closes += 1
        }
        slots[i].connected = false
        slots[i].channel = nil
        slots[i].publishTimer?.cancel()
        guard !stopping else { return }
        let delay = 200 + Int64(rng.next() % 600)
        slots[i].generation += 1
        loop.assumeIsolated().scheduleTask(in: .milliseconds(delay)) { [self] in connect(i) }
    }

    private func schedulePublish(_ i: Int, generation: Int) {
        let mean = settings.publishInterval
        let delay = mean * (0.5 + Double(rng.next() % 1000) / 1000)
        slots[i].publishTimer = loop.assumeIsolated().scheduleTask(in: .milliseconds(Int64(delay * 1000))) {
            [self] in
            guard slots[i].generation == generation, slots[i].connected, let channel = slots[i].channel else { return }
            slots[i].sequence += 1
            let name = slots[i].id.isEmpty ? "anonymous-\(i)" : slots[i].id
            let payload = #"{"seq":\#(slots[i].sequence),"value":\#(rng.next() % 1000)}"#
            let publish = PublishPacket(topic: "fleet/\(name)/telemetry", payload: ByteBuffer(string: payload))
            channel.writeAndFlush(publish.encoded(protocolLevel: 4), promise: nil)
            stats.publishes += 1
            schedulePublish(i, generation: generation)
        }
    }

    private func churn() {
        let live = slots.indices.filter { slots[$0].connected }
        guard !live.isEmpty, !stopping else { return }
        let i = live[Int(rng.next() % UInt64(live.count))]
        guard let channel = slots[i].channel else { return }
        stats.churned += 1
        channel.writeAndFlush(channel.allocator.buffer(bytes: DisconnectEncoder.v3)).whenComplete { _ in
            channel.close(promise: nil)
        }
    }

    private func connectBytes(_ id: String) -> [UInt8] {
        Array(ConnectPacket(clientID: id).encoded.readableBytesView)
    }
}

/// One simulated client's pipeline: sends the CONNECT when active, reports the CONNACK and the close.
final class FleetClientHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let connect: [UInt8]
    private let onConnack: (Bool) -> Void
    private let onClose: () -> Void
    private var buffer = ByteBuffer()
    private var acknowledged = false
    private var connackTimer: Scheduled<Void>?

    init(connect: [UInt8], onConnack: @escaping (Bool) -> Void, onClose: @escaping () -> Void) {
        self.connect = connect
        self.onConnack = onConnack
        self.onClose = onClose
    }

    func channelActive(context: ChannelHandlerContext) {
        context.writeAndFlush(NIOAny(context.channel.allocator.buffer(bytes: connect)), promise: nil)
        // Like any real client, give up on a broker that does not answer and try again.
        connackTimer = context.eventLoop.assumeIsolated().scheduleTask(in: FleetClientHandler.connackTimeout) { [self] in
            if !acknowledged { context.close(promise: nil) }
        }
        context.fireChannelActive()
    }

    /// How long a simulated client waits for its CONNACK before it closes and reconnects.
    static let connackTimeout = TimeAmount.seconds(3)

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        buffer.writeBuffer(&incoming)
        while let frame = try? MQTTFrameDecoder.nextFrame(in: &buffer, maxPacketSize: 1 << 20) {
            if frame.type == .connack, !acknowledged {
                acknowledged = true
                connackTimer?.cancel()
                let code = frame.body.getInteger(at: frame.body.readerIndex + 1, as: UInt8.self) ?? 0xFF
                onConnack(code == 0)
            }
        }
        buffer.discardReadBytes()
    }

    func channelInactive(context: ChannelHandlerContext) {
        onClose()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}

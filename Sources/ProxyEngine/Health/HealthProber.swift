import MQTTCodec
import NIOCore
import NIOPosix
import ProxyModel

/// Runs active probes on the health thread: `tcp` connects; `mqtt` also sends a clean-start CONNECT, wants
/// CONNACK 0x00 within the timeout, then says DISCONNECT.
struct HealthProber: Sendable {
    let loop: EventLoop

    /// Probes `target` once; the future never fails (a failure is an outcome).
    func probe(_ target: HealthTarget, clientID: String) -> EventLoopFuture<HealthOutcome> {
        let check = target.key.checks.active
        let timeout = TimeAmount.nanoseconds(Int64(check.timeout * 1e9))
        guard let address = target.probeAddress else {
            return loop.makeSucceededFuture(.tcpFailure("no address to probe"))
        }
        let seconds = check.timeout
        let mqtt: ConnectPacket? = check.type.probe == .mqtt ? HealthProber.connect(check.mqtt, clientID: clientID) : nil
        let result = loop.makePromise(of: HealthOutcome.self)
        ClientBootstrap(group: loop)
            .connectTimeout(timeout)
            .channelInitializer { [proxyProtocol = target.key.proxyProtocol] channel in
                channel.eventLoop.makeCompletedFuture {
                    if let proxyProtocol {
                        try channel.pipeline.syncOperations.addHandler(ProxyHeaderWriter(probe: proxyProtocol))
                    }
                    guard let mqtt else { return }
                    try channel.pipeline.syncOperations.addHandler(
                        MQTTProbeHandler(connect: mqtt, result: result, timeout: timeout, seconds: seconds))
                }
            }
            .connect(to: address)
            .whenComplete { outcome in
                switch outcome {
                case .success(let channel):
                    guard mqtt == nil else { return }
                    result.succeed(.success)
                    channel.close(promise: nil)
                case .failure(let error):
                    if case ChannelError.connectTimeout = error {
                        result.succeed(.timeout("no TCP connect within \(seconds) s"))
                    } else {
                        result.succeed(.tcpFailure("connect failed: \(error)"))
                    }
                }
            }
        return result.futureResult
    }

    /// The probe's CONNECT: clean start, keep-alive 0 (it stays for one round trip).
    static func connect(_ probe: ActiveHealthCheck.MQTTProbe, clientID: String) -> ConnectPacket {
        ConnectPacket(protocolLevel: UInt8(probe.protocolLevel), keepAlive: 0, clientID: probe.clientID ?? clientID,
                      username: probe.username, password: probe.password.map { Array($0.utf8) })
    }
}

/// One MQTT probe connection: CONNECT out, CONNACK in (or the timeout), DISCONNECT out.
final class MQTTProbeHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let connect: ConnectPacket
    private let result: EventLoopPromise<HealthOutcome>
    private let timeout: TimeAmount
    private let seconds: Double
    private var buffer = ByteBuffer()
    private var timer: Scheduled<Void>?
    private var done = false

    init(connect: ConnectPacket, result: EventLoopPromise<HealthOutcome>, timeout: TimeAmount, seconds: Double) {
        self.connect = connect
        self.result = result
        self.timeout = timeout
        self.seconds = seconds
    }

    func channelActive(context: ChannelHandlerContext) {
        context.writeAndFlush(NIOAny(connect.encoded), promise: nil)
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in
            finish(context: context, .timeout("no CONNACK within \(seconds) s"))
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        buffer.writeBuffer(&incoming)
        guard !done else { return }
        do {
            guard let frame = try MQTTFrameDecoder.nextFrame(in: &buffer, maxPacketSize: 64 * 1024) else { return }
            guard frame.type == .connack, let code = frame.body.getInteger(at: frame.body.readerIndex + 1, as: UInt8.self)
            else {
                return finish(context: context, .mqttFailure(code: 0xFF, "answered \(frame.type) instead of CONNACK"))
            }
            if code == 0 {
                context.writeAndFlush(NIOAny(ByteBuffer(bytes: DisconnectEncoder.v3)), promise: nil)
                finish(context: context, .success)
            } else {
                finish(context: context, .mqttFailure(code: code, "CONNACK \(ConnackText.describe(code, level: connect.protocolLevel))"))
            }
        } catch {
            finish(context: context, .mqttFailure(code: 0xFF, "broker sent malformed bytes: \(error)"))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(context: context, .tcpFailure("broker closed the connection before CONNACK"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        finish(context: context, .tcpFailure("\(error)"))
    }

    private func finish(context: ChannelHandlerContext, _ outcome: HealthOutcome) {
        guard !done else { return }
        done = true
        timer?.cancel()
        result.succeed(outcome)
        context.close(promise: nil)
    }
}

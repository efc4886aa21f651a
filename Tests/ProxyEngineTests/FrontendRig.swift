import Foundation
import Logging
import MQTTCodec
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import ProxyControl
@testable import ProxyEngine
import ProxyModel

/// A connector for the front handler on an `EmbeddedChannel`: each attempt gets the next scripted outcome, and the
/// brokers are embedded channels on the same loop, so a test sees exactly what would be written to them.
final class ScriptedConnector: UpstreamConnecting, @unchecked Sendable {
    // @unchecked: used only on the embedded loop's thread (the test's).
    enum Outcome {
        /// The broker answers at once.
        case accept
        /// The connect fails at once.
        case refuse
        /// The connect stays pending until the test completes `pending`.
        case hang
    }

    let loop: EmbeddedEventLoop
    var script: [String: [Outcome]] = [:]
    /// Node addresses asked for, in order.
    private(set) var asked: [String] = []
    /// Broker channels handed out, in order.
    private(set) var brokers: [EmbeddedChannel] = []
    /// The PROXY header each attempt asked for.
    private(set) var prefaces: [ByteBuffer?] = []
    /// What the next attempts fail with instead of a timeout (`.refuse`).
    var failure: Error?
    /// Attempts left hanging, to complete from the test.
    private(set) var pending: [(node: String, promise: EventLoopPromise<Channel>)] = []

    init(loop: EmbeddedEventLoop) { self.loop = loop }

    func connect(to node: CompiledNode, of route: CompiledRoute, index: Int, timeout: TimeAmount,
                 preface: ByteBuffer?, replay: ByteBuffer?, on loop: EventLoop) -> EventLoopFuture<UpstreamConnection>
    {
        attemptChannel(to: node, timeout: timeout, preface: preface, on: loop)
            .map { UpstreamConnection(channel: $0, replayed: 0) }
    }

    private func attemptChannel(to node: CompiledNode, timeout: TimeAmount, preface: ByteBuffer?,
                                on loop: EventLoop) -> EventLoopFuture<Channel>
    {
        asked.append(node.address)
        prefaces.append(preface)
        let outcome = script[node.address]?.isEmpty == false ? script[node.address]!.removeFirst() : .accept
        switch outcome {
        case .accept:
            return loop.makeSucceededFuture(makeBroker())
        case .refuse:
            return loop.makeFailedFuture(failure ?? ChannelError.connectTimeout(timeout))
        case .hang:
            let promise = loop.makePromise(of: Channel.self)
            pending.append((node.address, promise))
            return promise.futureResult
        }
    }

    /// An active broker channel on the embedded loop.
    func makeBroker() -> EmbeddedChannel {
        let broker = EmbeddedChannel(loop: loop)
        _ = broker.connect(to: try! SocketAddress(ipAddress: "10.0.0.1", port: 1883))
        brokers.append(broker)
        return broker
    }
}

/// One accepted connection driven by hand: a front handler on an embedded channel, with routes compiled from
/// JSON bodies and a registry to look at.
struct FrontendRig {
    let loop = EmbeddedEventLoop()
    let client: EmbeddedChannel
    let connector: ScriptedConnector
    let registry: ConnectionRegistry
    /// The front handler, held weakly: a spliced relay must not keep it (or its environment) alive.
    let frontRef: WeakFront

    init(routes: [(String, JSONValue)], settings: EngineSettings = EngineSettings(), registry: ConnectionRegistry? = nil,
         connector: ScriptedConnector? = nil, listener: ListenerPolicy = ListenerPolicy(),
         admission: Admission.Verdict = .admitted) throws
    {
        try self.init(table: FrontendRig.table(routes), settings: settings, registry: registry, connector: connector,
                      listener: listener, admission: admission)
    }

    /// Routes compiled as the engine compiles them.
    static func table(_ routes: [(String, JSONValue)]) throws -> RouteTable {
        RouteCompiler(resolver: NodeResolver()).compile(try ProxyResources.with(routes: routes), version: 1).0
    }

    /// A connection against an already compiled table (several rigs then share its balancers).
    init(table: RouteTable, settings: EngineSettings = EngineSettings(), registry: ConnectionRegistry? = nil,
         connector: ScriptedConnector? = nil, listener: ListenerPolicy = ListenerPolicy(),
         admission: Admission.Verdict = .admitted) throws
    {
        let registry = registry ?? ConnectionRegistry()
        let connector = connector ?? ScriptedConnector(loop: loop)
        var logger = Logger(label: "frontend-test")
        logger.logLevel = .critical
        let env = ConnectionEnvironment(registry: registry, settings: settings, logger: logger,
                                        idleWatches: IdleWatches(), table: { table }, connector: connector,
                                        health: nil, shutdown: ShutdownState(), listener: listener)
        client = EmbeddedChannel(loop: connector.loop)
        if listener.acceptsProxyHeader {
            try client.pipeline.syncOperations.addHandler(ProxyHeaderReader(maxLength: settings.prereadMaxBytes))
        }
        let front = FrontendHandler(env: env, admission: admission)
        frontRef = WeakFront(front)
        try client.pipeline.syncOperations.addHandler(front)
        client.localAddress = try SocketAddress(ipAddress: "127.0.0.1", port: 9100)
        self.connector = connector
        self.registry = registry
    }

    /// The client connects from `remote`.
    func activate(from remote: String = "10.1.0.7") throws {
        try client.connect(to: SocketAddress(ipAddress: remote, port: 40_000)).wait()
    }

    func send(_ bytes: [UInt8]) throws {
        try client.writeInbound(ByteBuffer(bytes: bytes))
    }

    /// Everything written to the client so far.
    func sentToClient() throws -> [UInt8] {
        var out: [UInt8] = []
        while let buffer = try client.readOutbound(as: ByteBuffer.self) { out += buffer.readableBytesView }
        return out
    }

    /// Everything written to broker `index` so far.
    func sentToBroker(_ index: Int = 0) throws -> [UInt8] {
        var out: [UInt8] = []
        while let buffer = try connector.brokers[index].readOutbound(as: ByteBuffer.self) {
            out += buffer.readableBytesView
        }
        return out
    }

    var isClosed: Bool { !client.isActive }

    var snapshot: EngineSnapshot { registry.snapshot() }

    /// Whether the front handler is still in the client's pipeline (it leaves once the relay is glued).
    /// Whether the front handler still exists anywhere (not only in the pipeline).
    var frontHandlerAlive: Bool { frontRef.handler != nil }

    var frontHandlerPresent: Bool {
        (try? client.pipeline.syncOperations.handler(type: FrontendHandler.self)) != nil
    }
}

/// A route with the mqtt-proxy plugin at `level` over `nodes` (`ip:port`), chash on the client id unless `type`.
func plainRoute(level: Int = 4, type: String = "chash", nodes: [String], extra: [String: JSONValue] = [:],
                mqtt: Bool = true) -> JSONValue
{
    var upstream: JSONValue = [
        "type": .string(type),
        "nodes": .array(nodes.map { address in
            let endpoint = HostPort(address)!
            return ["host": .string(endpoint.host), "port": .int(endpoint.port), "weight": 1]
        }),
    ]
    if type == "chash" { upstream["key"] = "mqtt_client_id" }
    var route: JSONValue = ["upstream": upstream]
    if mqtt { route["plugins"] = ["mqtt-proxy": ["protocol_name": "MQTT", "protocol_level": .int(level)]] }
    for (k, v) in extra { route[k] = v }
    return route
}

/// CONNECT bytes from the codec's own encoder.
func connectBytes(_ clientID: String, level: UInt8 = 4) -> [UInt8] {
    Array(ConnectPacket(protocolName: level == 3 ? "MQIsdp" : "MQTT", protocolLevel: level, clientID: clientID)
        .encoded.readableBytesView)
}

/// A weak reference to a front handler.
final class WeakFront {
    weak var handler: FrontendHandler?
    init(_ handler: FrontendHandler) { self.handler = handler }
}

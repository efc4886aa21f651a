import Foundation
import Logging
import NIOCore
import NIOPosix
import ProxyEngine
import ProxyModel
import RouteStore

/// An in-process proxy engine on a free loopback port, fed with store content.
public final class ProxyHarness: Sendable {
    public let engine: ProxyEngine
    public let group: MultiThreadedEventLoopGroup
    public let host: String
    public let port: Int
    private let ownsGroup: Bool

    private init(engine: ProxyEngine, group: MultiThreadedEventLoopGroup, host: String, port: Int, ownsGroup: Bool) {
        self.engine = engine
        self.host = host
        self.group = group
        self.port = port
        self.ownsGroup = ownsGroup
    }

    /// Starts an engine with `resources` live, listening on 127.0.0.1 (free port); `listener` sets the listener's
    /// other options (its host and port are the harness's).
    public static func start(resources: ProxyResources, settings: EngineSettings = EngineSettings(),
                             group: MultiThreadedEventLoopGroup? = nil,
                             resolver: NodeResolver = NodeResolver(), host: String = "127.0.0.1",
                             metrics: EngineMetrics = EngineMetrics(), tls: Bool = false,
                             listener: StreamListener? = nil) async throws
        -> ProxyHarness
    {
        let g = group ?? MultiThreadedEventLoopGroup(numberOfThreads: 2)
        var logger = Logger(label: "test-proxy")
        logger.logLevel = ProcessInfo.processInfo.environment["MQTT_PROXY_TEST_LOG"] != nil ? .debug : .critical
        let engine = ProxyEngine(settings: settings, group: g, logger: logger, resolver: resolver, metrics: metrics)
        await engine.apply(StoreSnapshot(revision: 1, resources: resources))
        var options = listener ?? StreamListener(port: 0, tls: tls)
        options.host = host
        options.port = 0
        let bound = try await engine.start(listeners: [options])
        return ProxyHarness(engine: engine, group: g, host: host, port: bound.first?.port ?? 0,
                            ownsGroup: group == nil)
    }

    /// Replaces the live routes, as a store change would.
    public func apply(_ resources: ProxyResources, version: Int) async {
        await engine.apply(StoreSnapshot(revision: version, resources: resources))
    }

    public func stop() async {
        await engine.stopAccepting()
        await engine.drain(timeout: 1)
        if ownsGroup { try? await group.shutdownGracefully() }
    }

    /// Opens a client connection to the proxy.
    public func client(from localIP: String? = nil, halfClosure: Bool = false,
                       tls: TLSClientOptions? = nil) async throws -> TestClient
    {
        try await TestClient.connect(host: host, port: port, from: localIP, group: group, halfClosure: halfClosure,
                                     tls: tls)
    }
}

extension ProxyResources {
    /// Resources holding the given stream routes (JSON bodies keyed by id), validated like a store would.
    public static func with(routes: [(String, JSONValue)], upstreams: [(String, JSONValue)] = []) throws
        -> ProxyResources
    {
        var r = ProxyResources()
        var index = 1
        for (id, body) in upstreams {
            try r.put(kind: .upstreams, id: id, json: body, index: index)
            index += 1
        }
        for (id, body) in routes {
            try r.put(kind: .streamRoutes, id: id, json: body, index: index)
            index += 1
        }
        return r
    }
}

/// MQTT CONNECT packets for tests.
public enum ConnectBytes {
    /// A minimal CONNECT: `level` 3 uses `MQIsdp`, 4 and 5 `MQTT`; v5 carries an empty property list.
    public static func make(clientID: String, level: UInt8 = 4, name: String? = nil, keepAlive: UInt16 = 60)
        -> [UInt8]
    {
        let protoName = Array((name ?? (level == 3 ? "MQIsdp" : "MQTT")).utf8)
        let id = Array(clientID.utf8)
        var body: [UInt8] = [UInt8(protoName.count >> 8), UInt8(protoName.count & 0xFF)] + protoName
        body += [level, 0x02, UInt8(keepAlive >> 8), UInt8(keepAlive & 0xFF)]
        if level == 5 { body.append(0x00) }
        body += [UInt8(id.count >> 8), UInt8(id.count & 0xFF)] + id
        var header: [UInt8] = [0x10]
        var n = body.count
        repeat {
            var byte = UInt8(n % 128)
            n /= 128
            if n > 0 { byte |= 0x80 }
            header.append(byte)
        } while n > 0
        return header + body
    }
}

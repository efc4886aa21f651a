@_exported import APISIXFixtures
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import ProxyControl
import X509

/// Bytes received on a test connection, and whether it was closed, readable from any thread.
public final class ByteCollector: Sendable {
    private let state = NIOLockedValueBox((bytes: [UInt8](), closed: false))
    private let tlsState = NIOLockedValueBox((done: false, error: String?.none))
    public init() {}
    func append(_ b: [UInt8]) { state.withLockedValue { $0.bytes.append(contentsOf: b) } }
    func markClosed() { state.withLockedValue { $0.closed = true } }
    func markHandshake() { tlsState.withLockedValue { $0.done = true } }
    func markError(_ e: Error) { tlsState.withLockedValue { if $0.error == nil { $0.error = "\(e)" } } }
    /// Whether a TLS handshake completed on this connection.
    public var handshakeDone: Bool { tlsState.withLockedValue { $0.done } }
    /// The first error the connection saw (a TLS alert, say).
    public var error: String? { tlsState.withLockedValue { $0.error } }
    public var bytes: [UInt8] { state.withLockedValue { $0.bytes } }
    public var closed: Bool { state.withLockedValue { $0.closed } }
}

final class CollectingHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    let collector: ByteCollector
    init(_ c: ByteCollector) { collector = c }
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buf = unwrapInboundIn(data)
        collector.append(buf.readBytes(length: buf.readableBytes) ?? [])
    }
    func channelInactive(context: ChannelHandlerContext) {
        collector.markClosed()
        context.fireChannelInactive()
    }
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let e = event as? ChannelEvent, case .inputClosed = e { collector.markClosed() }
        if let e = event as? TLSUserEvent, case .handshakeCompleted = e { collector.markHandshake() }
        context.fireUserInboundEventTriggered(event)
    }
    func errorCaught(context: ChannelHandlerContext, error: Error) {
        collector.markError(error)
        collector.markClosed()
        context.close(promise: nil)
    }
}

/// A raw TCP client for tests: send bytes, wait for bytes or for the close.
public struct TestClient: Sendable {
    public let channel: Channel
    public let received: ByteCollector

    /// Connects to `host:port`, optionally from a chosen local address (e.g. 127.0.0.7 to vary the client IP),
    /// optionally over TLS.
    public static func connect(host: String = "127.0.0.1", port: Int, from localIP: String? = nil,
                               group: EventLoopGroup, halfClosure: Bool = false,
                               tls: TLSClientOptions? = nil) async throws -> TestClient
    {
        let collector = ByteCollector()
        let sslContext = try tls.map { try NIOSSLContext(configuration: $0.configuration()) }
        var bootstrap = ClientBootstrap(group: group)
            .channelOption(.allowRemoteHalfClosure, value: halfClosure)
            .connectTimeout(.seconds(5))
            .channelInitializer { ch in
                ch.eventLoop.makeCompletedFuture {
                    if let sslContext {
                        try ch.pipeline.syncOperations.addHandler(
                            try NIOSSLClientHandler(context: sslContext, serverHostname: tls?.serverName))
                    }
                    try ch.pipeline.syncOperations.addHandler(CollectingHandler(collector))
                }
            }
        if let localIP { bootstrap = bootstrap.bind(to: try SocketAddress(ipAddress: localIP, port: 0)) }
        let channel = try await bootstrap.connect(host: host, port: port).get()
        return TestClient(channel: channel, received: collector)
    }

    public func send(_ bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(channel.allocator.buffer(bytes: bytes)).get()
    }

    /// Waits until at least `count` bytes arrived (or the connection closed, or time ran out); returns them.
    @discardableResult
    public func waitForBytes(_ count: Int, timeout: Double = 5) async -> [UInt8] {
        let deadline = Date().addingTimeInterval(timeout)
        while received.bytes.count < count, !received.closed, Date() < deadline {
            try? await Task.sleep(nanoseconds: 5_000_000)
        }
        return received.bytes
    }

    /// Waits for the peer to close; true when it did within `timeout`.
    public func waitForClose(timeout: Double = 5) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while !received.closed, Date() < deadline {
            try? await Task.sleep(nanoseconds: 5_000_000)
        }
        return received.closed
    }

    public func close() async {
        try? await channel.close()
    }

    /// Waits for the TLS handshake; true when it completed, false when the connection failed or closed first.
    public func waitForHandshake(timeout: Double = 5) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while !received.handshakeDone, !received.closed, Date() < deadline {
            try? await Task.sleep(nanoseconds: 5_000_000)
        }
        return received.handshakeDone
    }

    /// The subject common name of the certificate the server presented.
    public func serverCertificateCN() async throws -> String? {
        guard let cert = try await channel.nioSSL_peerCertificate().get() else { return nil }
        let parsed = try Certificate(derEncoded: try cert.toDERBytes())
        for rdn in parsed.subject {
            for attribute in rdn where attribute.type == .RDNAttributeType.commonName {
                return attribute.value.description
            }
        }
        return nil
    }

    /// Resets the connection: SO_LINGER 0, then close (the peer gets an RST instead of a FIN).
    /// Under TLS too: the close goes straight to the socket, without a close_notify.
    public func reset() async {
        try? await (channel as? SocketOptionProvider)?.setSoLinger(linger(l_onoff: 1, l_linger: 0)).get()
        let raw = RawWriter()
        try? await channel.pipeline.addHandler(raw, position: .first).get()
        try? await channel.eventLoop.submit { raw.close() }.get()
        try? await channel.closeFuture.get()
    }

    /// Writes raw bytes under TLS (straight to the socket), as a broken or hostile peer would.
    public func sendBelowTLS(_ bytes: [UInt8]) async throws {
        let raw = RawWriter()
        try await channel.pipeline.addHandler(raw, position: .first).get()
        try await channel.eventLoop.submit { raw.write(bytes) }.get()
    }

    /// Sends our EOF (half-close) while still reading.
    public func shutdownOutput() async throws {
        try await channel.close(mode: .output)
    }
}

/// How a test client speaks TLS: the SNI to send, the CA to trust, an optional client certificate.
public struct TLSClientOptions: Sendable {
    public var serverName: String?
    public var trustedCA: String
    public var cert: String?
    public var key: String?
    public var minimumVersion: TLSVersion = .tlsv12
    public var maximumVersion: TLSVersion? = nil
    /// Restricts the signature schemes the client offers (to force an RSA or an ECDSA server certificate).
    public var signatureAlgorithms: [SignatureAlgorithm]? = nil

    public init(serverName: String?, trustedCA: String, cert: String? = nil, key: String? = nil) {
        self.serverName = serverName
        self.trustedCA = trustedCA
        self.cert = cert
        self.key = key
    }

    /// The same options with a client certificate.
    public func with(_ issued: IssuedCertificate) -> TLSClientOptions {
        var copy = self
        copy.cert = issued.cert
        copy.key = issued.key
        return copy
    }

    func configuration() throws -> TLSConfiguration {
        var config = TLSConfiguration.makeClientConfiguration()
        config.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(trustedCA.utf8)))
        config.certificateVerification = serverName == nil ? .noHostnameVerification : .fullVerification
        config.minimumTLSVersion = minimumVersion
        config.maximumTLSVersion = maximumVersion
        config.verifySignatureAlgorithms = signatureAlgorithms
        if let cert, let key {
            config.certificateChain = try NIOSSLCertificate.fromPEMBytes(Array(cert.utf8)).map { .certificate($0) }
            config.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(key.utf8), format: .pem))
        }
        return config
    }
}

/// Waits until `condition` holds or `timeout` seconds pass; returns the last result.
public func eventually(timeout: Double = 5, _ condition: @Sendable () -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while !condition() {
        if Date() >= deadline { return false }
        try? await Task.sleep(nanoseconds: 10_000_000)
    }
    return true
}

/// Runs `body` with a fresh two-thread event loop group and shuts it down afterwards.
public func withEventLoopGroup<T: Sendable>(_ body: (MultiThreadedEventLoopGroup) async throws -> T) async throws -> T {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
    do {
        let result = try await body(group)
        try? await group.shutdownGracefully()
        return result
    } catch {
        try? await group.shutdownGracefully()
        throw error
    }
}

/// Waits, woken by the engine's own changes (not by polling), until `condition` holds for its snapshot; false
/// after `timeout` seconds.
public func until(_ engine: any EngineControl, timeout: Double = 10,
                  _ condition: (EngineSnapshot) -> Bool) async -> Bool
{
    let deadline = Date().addingTimeInterval(timeout)
    var version = engine.snapshotVersion
    while !condition(engine.snapshot()) {
        let left = deadline.timeIntervalSinceNow
        if left <= 0 { return false }
        version = await engine.nextVersion(after: version, timeout: min(left, 0.5))
    }
    return true
}

/// Sits first in a pipeline to write bytes that no handler after it (TLS) sees.
final class RawWriter: ChannelOutboundHandler, @unchecked Sendable {
    // @unchecked: used on its channel's loop only.
    typealias OutboundIn = ByteBuffer
    private var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func write(_ bytes: [UInt8]) {
        guard let context else { return }
        context.writeAndFlush(NIOAny(context.channel.allocator.buffer(bytes: bytes)), promise: nil)
    }

    func close() {
        context?.close(promise: nil)
    }
}

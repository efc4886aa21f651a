import NIOCore
import NIOSSL
import NIOTLS
import ProxyModel

/// Client-side TLS towards an upstream's brokers (`scheme: tls`), built once per route table.
struct UpstreamTLSContext: Sendable {
    var context: NIOSSLContext
    var verify: Bool

    /// Builds the context: client certificate from `tls.client_cert`/`client_key` or the `client` ssl object
    /// named by `tls.client_cert_id`; broker certificates checked against `ssl_trusted_certificate` (or the
    /// system store) only when `tls.verify` is true, as in APISIX.
    static func make(upstream: Upstream, resources: ProxyResources, settings: TLSSettings) throws -> UpstreamTLSContext {
        var config = TLSConfiguration.makeClientConfiguration()
        config.minimumTLSVersion = .tlsv12
        let tls = upstream.tls
        let verify = tls?.verify ?? false
        if verify {
            config.certificateVerification = .fullVerification
            if let file = settings.trustedCertificateFile { config.trustRoots = .file(file) }
        } else {
            config.certificateVerification = .none
        }
        var pair: (cert: String, key: String)?
        if let cert = tls?.clientCert, let key = tls?.clientKey {
            pair = (cert, key)
        } else if let id = tls?.clientCertID {
            guard let ssl = resources.clientCertificate(for: upstream) else {
                throw TLSSetupError("tls.client_cert_id \(id) is not a stored ssl object of type client")
            }
            pair = (ssl.cert, ssl.key)
        }
        if let pair {
            config.certificateChain = try NIOSSLCertificate.fromPEMBytes(Array(pair.cert.utf8)).map { .certificate($0) }
            config.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(pair.key.utf8), format: .pem))
        }
        return UpstreamTLSContext(context: try NIOSSLContext(configuration: config), verify: verify)
    }

    /// The TLS handler for a connection to `host` (the node's name as configured: sent as SNI and checked
    /// against the certificate when it is a name; an IP address is checked against IP SANs).
    func handler(host: String) throws -> NIOSSLClientHandler {
        let name = IPAddressBytes(host) == nil ? host : nil
        return try NIOSSLClientHandler(context: context, serverHostname: name)
    }
}

/// Waits for the TLS handshake with a broker, so that a failed handshake counts as a failed connect (and the
/// next node is tried) instead of a relay that dies at once. Removes itself once the handshake is done.
final class UpstreamHandshakeWaiter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private let promise: EventLoopPromise<Void>

    init(promise: EventLoopPromise<Void>) {
        self.promise = promise
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted = event {
            promise.succeed()
            context.fireUserInboundEventTriggered(event)
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        promise.fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(TLSSetupError("broker closed the connection during the TLS handshake"))
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        promise.fail(TLSSetupError("TLS handshake abandoned"))
    }
}

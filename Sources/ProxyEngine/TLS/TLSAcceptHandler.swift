import Foundation
import TLSWire
import NIOCore
import NIOSSL
import X509
import ProxyControl

/// Why a TLS connection was refused before any route was looked at.
struct TLSRejection: Error, CustomStringConvertible {
    var reason: RejectReason
    var description: String
}

/// The first handler of a TLS listener's connections: waits for the ClientHello, picks the ssl object for its
/// SNI (and the pair whose key type the client accepts), then puts a TLS server handler in its own place and
/// hands it the bytes read so far.
final class TLSAcceptHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let certificates: @Sendable () -> CertificateTable
    private let session: TLSSession
    private var buffer: ByteBuffer?
    private var done = false

    /// A TLS record holding a fatal `unrecognized_name` (112) alert.
    static let unrecognizedName: [UInt8] = [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x70]

    init(session: TLSSession, certificates: @escaping @Sendable () -> CertificateTable) {
        self.session = session
        self.certificates = certificates
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !done else { return }
        var incoming = unwrapInboundIn(data)
        if buffer == nil { buffer = incoming } else { buffer!.writeBuffer(&incoming) }
        switch ClientHello.parse(buffer!) {
        case .needMoreBytes:
            return
        case .notTLS(let why):
            fail(context: context, .tlsHandshake, "not a TLS handshake: \(why)")
        case .hello(let hello):
            choose(context: context, hello: hello)
        }
    }

    private func choose(context: ChannelHandlerContext, hello: ClientHello) {
        done = true
        let table = certificates()
        session.update { $0.sni = hello.serverName }
        guard let certificate = table.lookup(sni: hello.serverName) else {
            let message = hello.serverName.map { "no ssl object has a certificate for SNI \($0)" }
                ?? (table.fallbackSNI.map { "client sent no SNI and fallback_sni \($0) has no certificate" }
                    ?? "client sent no SNI and apisix.ssl.fallback_sni is not set")
            // A fatal unrecognized_name alert, so the client reports why instead of an unexpected EOF.
            context.writeAndFlush(NIOAny(context.channel.allocator.buffer(bytes: TLSAcceptHandler.unrecognizedName)),
                                  promise: nil)
            fail(context: context, .tlsNoCertificate, message)
            return
        }
        session.update { $0.sslID = certificate.sslID }
        let sslContext = certificate.context(for: hello.acceptedKeyTypes)
        let handler: NIOSSLServerHandler
        if certificate.requiresClientCertificate {
            let check = ClientCertificateCheck(ca: certificate.clientCA, depth: certificate.clientDepth,
                                               sslID: certificate.sslID, session: session)
            handler = NIOSSLServerHandler(context: sslContext, customVerificationCallbackWithMetadata: check.verify)
        } else {
            handler = NIOSSLServerHandler(context: sslContext)
        }
        do {
            try context.pipeline.syncOperations.addHandler(handler, position: .after(self))
        } catch {
            fail(context: context, .tlsHandshake, "cannot start TLS: \(error)")
            return
        }
        if let pending = buffer {
            buffer = nil
            context.fireChannelRead(wrapInboundOut(pending))
        }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    private func fail(context: ChannelHandlerContext, _ reason: RejectReason, _ message: String) {
        done = true
        buffer = nil
        context.fireErrorCaught(TLSRejection(reason: reason, description: message))
    }
}

/// mTLS: checks a client's certificate chain against an ssl object's `client.ca` within `client.depth`, with
/// the RFC 5280 rules (validity dates, CA constraints), and records the verified certificate or the reason.
struct ClientCertificateCheck: Sendable {
    var ca: [Certificate]
    var depth: Int
    var sslID: String
    var session: TLSSession

    func verify(_ presented: [NIOSSLCertificate], _ promise: EventLoopPromise<NIOSSLVerificationResultWithMetadata>) {
        let session = self.session
        let parsed: [Certificate]
        do {
            parsed = try presented.map { try Certificate(derEncoded: try $0.toDERBytes()) }
        } catch {
            session.update { $0.clientCertificateProblem = "client certificate does not parse: \(error)" }
            promise.succeed(.failed)
            return
        }
        guard let leaf = parsed.first else {
            session.update { $0.clientCertificateProblem = "client sent no certificate" }
            promise.succeed(.failed)
            return
        }
        let now = Date()
        if now > leaf.notValidAfter || now < leaf.notValidBefore {
            let problem = now > leaf.notValidAfter
                ? "client certificate \(leaf.subject) expired at \(leaf.notValidAfter)"
                : "client certificate \(leaf.subject) is not valid before \(leaf.notValidBefore)"
            session.update { $0.clientCertificateProblem = problem }
            promise.succeed(.failed)
            return
        }
        let (ca, depth, sslID) = (self.ca, self.depth, self.sslID)
        Task {
            var verifier = Verifier(rootCertificates: CertificateStore(ca)) { RFC5280Policy() }
            let result = await verifier.validate(leaf: leaf, intermediates: CertificateStore(Array(parsed.dropFirst())))
            switch result {
            case .validCertificate(let chain):
                let chainLength = Array(chain).count
                if chainLength > depth + 1 {
                    session.update {
                        $0.clientCertificateProblem = "client certificate chain of \(chainLength) certificates is deeper than client.depth \(depth) of ssl \(sslID)"
                    }
                    promise.succeed(.failed)
                } else {
                    session.update { $0.clientCertificate = leaf }
                    promise.succeed(.certificateVerified(VerificationMetadata(ValidatedCertificateChain(presented))))
                }
            case .couldNotValidate(let failures):
                let detail = failures.first.map { ClientCertificateCheck.shorten("\($0.policyFailureReason)") }
                session.update {
                    $0.clientCertificateProblem = "client certificate \(leaf.subject) does not chain to client.ca of ssl \(sslID)"
                        + (detail.map { " (\($0))" } ?? "")
                }
                promise.succeed(.failed)
            }
        }
    }

    /// The policy's reason without the certificate dump it embeds.
    static func shorten(_ reason: String) -> String {
        for phrase in ["has expired", "is not yet valid", "is not a CA", "path length", "name constraints"]
            where reason.contains(phrase) { return "a certificate in the chain \(phrase)" }
        return String(reason.prefix(160))
    }
}

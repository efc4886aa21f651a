import Crypto
import _CryptoExtras
import NIOSSL
import ProxyModel
import X509

/// One ssl object ready for handshakes: a server context per certificate/key pair, and the CA that client
/// certificates must chain to when mTLS is on.
struct ServerCertificate: Sendable {
    /// A certificate/key pair and the context that presents it.
    struct Pair: Sendable {
        var keyType: CertificateKeyType
        var context: NIOSSLContext
    }

    var sslID: String
    var snis: [String]
    /// The main pair first, then the extra `certs`/`keys` pairs.
    var pairs: [Pair]
    /// mTLS: the trusted CA certificates and the allowed depth.
    var clientCA: [Certificate]
    var clientDepth: Int

    /// The pair to present to a client that can verify `accepted` key types: the first one it can use, or
    /// the main pair when none fits (the handshake will then fail in the TLS library with a clear alert).
    func context(for accepted: Set<CertificateKeyType>) -> NIOSSLContext {
        (pairs.first { accepted.contains($0.keyType) } ?? pairs[0]).context
    }

    var requiresClientCertificate: Bool { !clientCA.isEmpty }
}

/// The server certificates of TLS listeners, indexed by SNI: exact names first, then `*.` wildcards, then the
/// configured fallback for clients that send no SNI.
struct CertificateTable: Sendable {
    var certificates: [ServerCertificate] = []
    private var exact: [String: Int] = [:]
    private var wildcard: [String: Int] = [:]
    var fallbackSNI: String?

    init() {}

    /// Builds contexts for every enabled `server` ssl object. Objects that cannot be loaded are left out and
    /// reported in `problems`.
    init(ssls: [SSLObject], settings: TLSSettings, problems: inout [String]) {
        fallbackSNI = settings.fallbackSNI
        for ssl in ssls where ssl.type == "server" && ssl.enabled {
            do {
                let entry = try CertificateTable.load(ssl, settings: settings)
                let index = certificates.count
                certificates.append(entry)
                for name in ssl.snis {
                    if name.hasPrefix("*.") {
                        if wildcard[String(name.dropFirst(1))] == nil { wildcard[String(name.dropFirst(1))] = index }
                    } else if exact[name] == nil {
                        exact[name] = index
                    }
                }
            } catch {
                problems.append("ssl \(ssl.id): cannot be used for TLS: \(error)")
            }
        }
    }

    /// The certificate for a handshake that asked for `sni` (nil: the client sent none).
    func lookup(sni: String?) -> ServerCertificate? {
        guard let name = sni ?? fallbackSNI else { return nil }
        if let i = exact[name] { return certificates[i] }
        // A wildcard stands for exactly one label (RFC 6125): `*.fleet.example.com` serves
        // `a.fleet.example.com`, not `a.b.fleet.example.com`, which no client would accept.
        guard let dot = name.firstIndex(of: "."), dot != name.startIndex else { return nil }
        return wildcard[String(name[dot...])].map { certificates[$0] }
    }

    /// Whether some certificate serves `name` (a route's `sni`, which may itself be a wildcard).
    func covers(_ name: String) -> Bool {
        if name.hasPrefix("*.") { return wildcard[String(name.dropFirst(1))] != nil }
        return lookup(sni: name) != nil
    }

    var isEmpty: Bool { certificates.isEmpty }

    private static func load(_ ssl: SSLObject, settings: TLSSettings) throws -> ServerCertificate {
        let protocols = ssl.protocols.isEmpty ? settings.protocols : ssl.protocols
        var clientCA: [Certificate] = []
        var caForNIO: [NIOSSLCertificate] = []
        if let client = ssl.client {
            caForNIO = try NIOSSLCertificate.fromPEMBytes(Array(client.ca.utf8))
            clientCA = try caForNIO.map { try Certificate(derEncoded: try $0.toDERBytes()) }
        }
        var pairs: [ServerCertificate.Pair] = []
        for (cert, key) in [(ssl.cert, ssl.key)] + ssl.extraPairs.map({ ($0.cert, $0.key) }) {
            let chain = try NIOSSLCertificate.fromPEMBytes(Array(cert.utf8))
            guard let leaf = chain.first else { throw TLSSetupError("no certificate in cert") }
            let privateKey = try NIOSSLPrivateKey(bytes: Array(key.utf8), format: .pem)
            var config = TLSConfiguration.makeServerConfiguration(
                certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(privateKey))
            config.minimumTLSVersion = protocols.first == .tls13 ? .tlsv13 : .tlsv12
            config.maximumTLSVersion = protocols.last == .tls12 ? .tlsv12 : .tlsv13
            // A client that never answers our close_notify holds its descriptor this long at most.
            config.shutdownTimeout = .seconds(1)
            if !caForNIO.isEmpty {
                config.certificateVerification = .noHostnameVerification
                config.trustRoots = .certificates(caForNIO)
                config.sendCANameList = true
            }
            let parsed = try Certificate(derEncoded: try leaf.toDERBytes())
            pairs.append(.init(keyType: keyType(of: parsed.publicKey), context: try NIOSSLContext(configuration: config)))
        }
        return ServerCertificate(sslID: ssl.id, snis: ssl.snis, pairs: pairs, clientCA: clientCA,
                                 clientDepth: ssl.client?.depth ?? 1)
    }

    static func keyType(of key: Certificate.PublicKey) -> CertificateKeyType {
        if P256.Signing.PublicKey(key) != nil || P384.Signing.PublicKey(key) != nil || P521.Signing.PublicKey(key) != nil {
            return .ecdsa
        }
        if _RSA.Signing.PublicKey(key) != nil { return .rsa }
        if Curve25519.Signing.PublicKey(key) != nil { return .ed25519 }
        return .other
    }
}

/// A TLS object that could not be turned into a context.
struct TLSSetupError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

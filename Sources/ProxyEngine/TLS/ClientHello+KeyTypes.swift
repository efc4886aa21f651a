import TLSWire

extension ClientHello {
    /// Key types the client can verify signatures from, judged by its signature schemes. A client that
    /// lists none (allowed before TLS 1.3) is taken to accept RSA and ECDSA, as TLS 1.2 specifies.
    var acceptedKeyTypes: Set<CertificateKeyType> {
        guard !signatureSchemes.isEmpty else { return [.rsa, .ecdsa] }
        var out: Set<CertificateKeyType> = []
        for scheme in signatureSchemes {
            switch scheme {
            case 0x0401, 0x0501, 0x0601, 0x0201, 0x0804, 0x0805, 0x0806: out.insert(.rsa)
            case 0x0403, 0x0503, 0x0603, 0x0203: out.insert(.ecdsa)
            case 0x0807: out.insert(.ed25519)
            default: continue
            }
        }
        return out
    }
}

/// The kind of key a server certificate carries, for choosing among an ssl object's pairs.
enum CertificateKeyType: String, Sendable, Hashable {
    case rsa, ecdsa, ed25519, other
}

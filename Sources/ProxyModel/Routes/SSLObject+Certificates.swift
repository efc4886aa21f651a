import Foundation
import X509

/// What was learned from an ssl object's PEM certificate(s): names and validity, for answers and logs.
public struct CertificateSummary: Sendable, Hashable {
    public var subject: String
    public var dnsNames: [String]
    public var notValidBefore: Date
    public var notValidAfter: Date

    /// Whether the certificate has expired (or is not valid yet) at `date`.
    public func isExpired(at date: Date = Date()) -> Bool { date > notValidAfter || date < notValidBefore }
}

extension SSLObject {
    /// Parses the certificate and key (and the extra `certs`/`keys` pairs) and checks that each key belongs to
    /// its certificate. Returns the summary of the main certificate.
    static func checkPair(cert: String, key: String, field: String) throws(ValidationError) -> CertificateSummary {
        let certificate: Certificate
        do {
            certificate = try Certificate(pemEncoded: cert)
        } catch {
            throw ValidationError(field: field.isEmpty ? "cert" : field, "invalid cert: not a PEM certificate (\(error))")
        }
        let privateKey: Certificate.PrivateKey
        do {
            privateKey = try Certificate.PrivateKey(pemEncoded: key)
        } catch {
            throw ValidationError(field: field.isEmpty ? "key" : field,
                                  "invalid key: not a PEM private key (\(error))")
        }
        guard privateKey.publicKey == certificate.publicKey else {
            throw ValidationError(field: field.isEmpty ? "key" : field, "key does not match the certificate")
        }
        var names: [String] = []
        if let san = try? certificate.extensions.subjectAlternativeNames {
            for name in san {
                if case .dnsName(let n) = name { names.append(n) }
            }
        }
        return CertificateSummary(subject: certificate.subject.description, dnsNames: names,
                                  notValidBefore: certificate.notValidBefore, notValidAfter: certificate.notValidAfter)
    }
}

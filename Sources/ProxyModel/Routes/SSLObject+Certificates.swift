import Foundation
import SwiftASN1
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
    /// How many certificates parse out of a PEM text that may hold a chain.
    static func countCertificates(_ pem: String) -> Int {
        guard let docs = try? PEMDocument.parseMultiple(pemString: pem) else { return 0 }
        return docs.filter { (try? Certificate(pemDocument: $0)) != nil }.count
    }

    /// Parses the certificate and key (and the extra `certs`/`keys` pairs) and checks that each key belongs to
    /// its certificate. Returns the summary of the main certificate.
    static func checkPair(cert: String, key: String, field: String) throws(ValidationError) -> CertificateSummary {
        let certificate: Certificate
        do {
            guard let first = try PEMDocument.parseMultiple(pemString: cert).first(where: {
                $0.discriminator == "CERTIFICATE"
            }) else { throw ValidationError(field: "cert", "no CERTIFICATE block") }
            certificate = try Certificate(pemDocument: first)
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

import Foundation
import NIOConcurrencyHelpers
import NIOSSL
import X509
import ProxyControl

/// What one TLS connection's handshake learned, shared by the handler that picks the certificate, the
/// client-certificate check (which runs off the event loop) and the frontend that records the connection.
final class TLSSession: Sendable {
    struct Facts: Sendable {
        /// The SNI the client sent (lowercased); nil when it sent none.
        var sni: String?
        /// The ssl object whose certificate was presented.
        var sslID: String?
        /// The client certificate, when mTLS verified one.
        var clientCertificate: Certificate?
        /// Why the client certificate was refused, for the log and the rejection record.
        var clientCertificateProblem: String?
    }

    private let box = NIOLockedValueBox(Facts())

    var facts: Facts { box.withLockedValue { $0 } }

    func update(_ change: (inout Facts) -> Void) { box.withLockedValue { change(&$0) } }
}

extension TLSDetails {
    /// Details of a finished handshake.
    init(version: TLSVersion?, facts: TLSSession.Facts) {
        self.init(version: version.map(TLSDetails.name) ?? "TLS", sni: facts.sni, sslID: facts.sslID)
        guard let cert = facts.clientCertificate else { return }
        clientSubject = cert.subject.description
        for rdn in cert.subject {
            for attribute in rdn where attribute.type == .RDNAttributeType.commonName {
                clientCN = attribute.value.description
            }
        }
        if let names = try? cert.extensions.subjectAlternativeNames {
            for name in names {
                switch name {
                case .dnsName(let n): clientSANs.append("DNS:\(n)")
                case .rfc822Name(let n): clientSANs.append("email:\(n)")
                case .uniformResourceIdentifier(let n): clientSANs.append("URI:\(n)")
                case .ipAddress(let bytes): clientSANs.append("IP:\(TLSDetails.ipText(Array(bytes.bytes)))")
                default: continue
                }
            }
        }
    }

    static func name(_ version: TLSVersion) -> String {
        switch version {
        case .tlsv13: return "TLSv1.3"
        case .tlsv12: return "TLSv1.2"
        case .tlsv11: return "TLSv1.1"
        case .tlsv1: return "TLSv1"
        }
    }

    private static func ipText(_ bytes: [UInt8]) -> String {
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        return stride(from: 0, to: bytes.count, by: 2).map {
            String(format: "%x", Int(bytes[$0]) << 8 | Int(bytes[min($0 + 1, bytes.count - 1)]))
        }.joined(separator: ":")
    }
}

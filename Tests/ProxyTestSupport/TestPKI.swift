import Crypto
import _CryptoExtras
import Foundation
import SwiftASN1
import X509

/// A certificate and its key in PEM, plus the parsed certificate, issued by a `TestCA`.
public struct IssuedCertificate: Sendable {
    public var cert: String
    public var key: String
    public var certificate: Certificate
    let privateKey: Certificate.PrivateKey

    /// The certificate followed by its issuers' (for servers that send a chain).
    public func chain(with intermediates: [IssuedCertificate]) -> String {
        ([cert] + intermediates.map(\.cert)).map { $0.hasSuffix("\n") ? $0 : $0 + "\n" }.joined()
    }

    /// Writes cert and key to `dir/name.crt` and `dir/name.key`; returns the two paths.
    @discardableResult
    public func write(to dir: String, name: String) throws -> (cert: String, key: String) {
        let c = "\(dir)/\(name).crt", k = "\(dir)/\(name).key"
        try cert.write(toFile: c, atomically: true, encoding: .utf8)
        try key.write(toFile: k, atomically: true, encoding: .utf8)
        return (c, k)
    }
}

/// A certificate authority made at test time: a root (or an intermediate) that issues server and client
/// certificates with real X.509 extensions, so OpenSSL (mosquitto, Python) and BoringSSL accept them.
public struct TestCA: Sendable {
    public let issued: IssuedCertificate
    public var cert: String { issued.cert }

    /// A new self-signed root CA.
    public static func root(_ cn: String) throws -> TestCA {
        let key = Certificate.PrivateKey(P256.Signing.PrivateKey())
        let name = try DistinguishedName {
            OrganizationName("mqtt-proxy tests")
            CommonName(cn)
        }
        let cert = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: key.publicKey,
            notValidBefore: Date().addingTimeInterval(-86400), notValidAfter: Date().addingTimeInterval(86400 * 30),
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: key.publicKey)
            },
            issuerPrivateKey: key)
        return TestCA(issued: try IssuedCertificate(cert: cert.serializeAsPEM().pemString,
                                                    key: key.serializeAsPEM().pemString, certificate: cert,
                                                    privateKey: key))
    }

    /// The kind of key a certificate gets.
    public enum KeyKind: Sendable { case p256, rsa2048 }

    /// Issues a certificate. `dns` and `ips` become subject alternative names; `isCA` makes an intermediate.
    public func issue(cn: String, dns: [String] = [], ips: [String] = [], isCA: Bool = false, keyKind: KeyKind = .p256,
                      notBefore: Date = Date().addingTimeInterval(-3600),
                      notAfter: Date = Date().addingTimeInterval(86400 * 7)) throws -> IssuedCertificate
    {
        let key: Certificate.PrivateKey
        switch keyKind {
        case .p256: key = Certificate.PrivateKey(P256.Signing.PrivateKey())
        case .rsa2048: key = Certificate.PrivateKey(try _RSA.Signing.PrivateKey(keySize: .bits2048))
        }
        let subject = try DistinguishedName {
            OrganizationName("mqtt-proxy tests")
            CommonName(cn)
        }
        var names = dns.map { GeneralName.dnsName($0) }
        for ip in ips {
            var bytes: [UInt8] = []
            if ip.contains(":") {
                var addr = in6_addr()
                inet_pton(AF_INET6, ip, &addr)
                bytes = withUnsafeBytes(of: &addr) { Array($0) }
            } else {
                bytes = ip.split(separator: ".").compactMap { UInt8($0) }
            }
            names.append(.ipAddress(ASN1OctetString(contentBytes: ArraySlice(bytes))))
        }
        let issuerSKI = try issued.certificate.extensions.subjectKeyIdentifier?.keyIdentifier
        let cert = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: key.publicKey,
            notValidBefore: notBefore, notValidAfter: notAfter,
            issuer: issued.certificate.subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                if isCA {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                    Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                } else {
                    Critical(BasicConstraints.notCertificateAuthority)
                    Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
                    try ExtendedKeyUsage([.serverAuth, .clientAuth])
                }
                SubjectKeyIdentifier(hash: key.publicKey)
                AuthorityKeyIdentifier(keyIdentifier: issuerSKI)
                if !names.isEmpty { SubjectAlternativeNames(names) }
            },
            issuerPrivateKey: issued.privateKey)
        return IssuedCertificate(cert: try cert.serializeAsPEM().pemString, key: try key.serializeAsPEM().pemString,
                                 certificate: cert, privateKey: key)
    }

    /// An intermediate CA signed by this one.
    public func intermediate(_ cn: String) throws -> TestCA {
        TestCA(issued: try issue(cn: cn, isCA: true))
    }
}

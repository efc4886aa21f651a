import Crypto
import Foundation
import SwiftASN1
import X509

/// A self-signed certificate and its key, made for the test.
public func makeCertificate(cn: String, sans: [String], notBefore: Date = Date().addingTimeInterval(-3600),
                     notAfter: Date = Date().addingTimeInterval(86400)) throws -> (cert: String, key: String)
{
    let key = P256.Signing.PrivateKey()
    let certKey = Certificate.PrivateKey(key)
    let name = try DistinguishedName { CommonName(cn) }
    let cert = try Certificate(
        version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: certKey.publicKey,
        notValidBefore: notBefore, notValidAfter: notAfter, issuer: name, subject: name,
        signatureAlgorithm: .ecdsaWithSHA256,
        extensions: try Certificate.Extensions {
            SubjectAlternativeNames(sans.map { GeneralName.dnsName($0) })
        },
        issuerPrivateKey: certKey)
    return (try cert.serializeAsPEM().pemString, key.pemRepresentation)
}


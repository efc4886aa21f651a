import Foundation
import ProxyModel
import ProxyTestSupport
import Testing

@Suite("ssl objects")
struct SSLObjectTests {
    @Test func aMatchingPairIsAcceptedAndSummarised() throws {
        let (cert, key) = try makeCertificate(cn: "mqtt.example.com", sans: ["mqtt.example.com", "*.mqtt.example.com"])
        let ssl = try SSLObject(json: ["cert": .string(cert), "key": .string(key),
                                       "snis": ["mqtt.example.com", "*.mqtt.example.com"]], id: "1")
        #expect(ssl.snis == ["mqtt.example.com", "*.mqtt.example.com"])
        #expect(ssl.summary.dnsNames == ["mqtt.example.com", "*.mqtt.example.com"])
        #expect(!ssl.summary.isExpired())
    }

    @Test func aKeyFromAnotherCertificateIsRefused() throws {
        let a = try makeCertificate(cn: "a", sans: ["a.example"])
        let b = try makeCertificate(cn: "b", sans: ["b.example"])
        #expect {
            _ = try SSLObject(json: ["cert": .string(a.cert), "key": .string(b.key), "snis": ["a.example"]], id: "1")
        } throws: { ($0 as? ValidationError)?.message == "key does not match the certificate" }
    }

    @Test(arguments: [
        ("not a pem", "invalid cert: not a PEM certificate"),
    ])
    func garbageIsRefused(cert: String, message: String) throws {
        let good = try makeCertificate(cn: "a", sans: ["a.example"])
        #expect {
            _ = try SSLObject(json: ["cert": .string(cert), "key": .string(good.key), "snis": ["a.example"]], id: "1")
        } throws: { ($0 as? ValidationError)?.message.hasPrefix(message) == true }
        #expect {
            _ = try SSLObject(json: ["cert": .string(good.cert), "key": "nope", "snis": ["a.example"]], id: "1")
        } throws: { ($0 as? ValidationError)?.message.hasPrefix("invalid key: not a PEM private key") == true }
        #expect {
            _ = try SSLObject(json: ["cert": .string(good.cert), "key": .string(good.key)], id: "1")
        } throws: { ($0 as? ValidationError)?.message == "missing snis" }
    }

    @Test func expiredCertificatesAreAcceptedButFlagged() throws {
        let old = try makeCertificate(cn: "old", sans: ["old.example"], notBefore: Date(timeIntervalSince1970: 0),
                                      notAfter: Date(timeIntervalSince1970: 86400))
        let ssl = try SSLObject(json: ["cert": .string(old.cert), "key": .string(old.key), "sni": "old.example"], id: "1")
        #expect(ssl.summary.isExpired())
    }

    @Test func extraPairsAreCheckedToo() throws {
        let main = try makeCertificate(cn: "a", sans: ["a.example"])
        let extra = try makeCertificate(cn: "a", sans: ["a.example"])
        let ok = try SSLObject(json: ["cert": .string(main.cert), "key": .string(main.key), "snis": ["a.example"],
                                      "certs": [.string(extra.cert)], "keys": [.string(extra.key)]], id: "1")
        #expect(ok.extraPairs.count == 1)
        #expect {
            _ = try SSLObject(json: ["cert": .string(main.cert), "key": .string(main.key), "snis": ["a.example"],
                                     "certs": [.string(extra.cert)], "keys": [.string(main.key)]], id: "1")
        } throws: { ($0 as? ValidationError)?.field == "certs[0]" }
    }
}

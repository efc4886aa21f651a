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

    @Test func clientCAAndDepthAreReadAndChecked() throws {
        let ca = try TestCA.root("fleet CA")
        let server = try ca.issue(cn: "mqtt.example.com", dns: ["mqtt.example.com"])
        let base: JSONValue = ["cert": .string(server.cert), "key": .string(server.key), "snis": ["mqtt.example.com"]]
        var body = base
        body["client"] = ["ca": .string(ca.cert)]
        let ssl = try SSLObject(json: body, id: "1")
        #expect(ssl.client == ClientVerification(ca: ca.cert, depth: 1))
        body["client"] = ["ca": .string(ca.cert), "depth": 3]
        #expect(try SSLObject(json: body, id: "1").client?.depth == 3)
        let refused: [(JSONValue, String, String)] = [
            (["ca": "garbage"], "client.ca", "invalid client.ca: not a PEM certificate"),
            (["depth": 1], "client.ca", "missing client.ca"),
            (["ca": .string(ca.cert), "depth": -1], "client.depth", ""),
            (["ca": .string(ca.cert), "verify": true], "client.verify", ""),
        ]
        for (client, field, message) in refused {
            var bad = base
            bad["client"] = client
            #expect(throws: ValidationError.self) { try SSLObject(json: bad, id: "1") }
            do {
                _ = try SSLObject(json: bad, id: "1")
            } catch {
                #expect(error.field == field, "\(client.jsonText)")
                if !message.isEmpty { #expect(error.message == message) }
            }
        }
    }

    @Test func sslProtocolsAllowOnlyTLS12And13() throws {
        let cert = try makeCertificate(cn: "a", sans: ["a.example"])
        func make(_ protocols: JSONValue) throws(ValidationError) -> SSLObject {
            try SSLObject(json: ["cert": .string(cert.cert), "key": .string(cert.key), "snis": ["a.example"],
                                 "ssl_protocols": protocols], id: "1")
        }
        #expect(try make(["TLSv1.3"]).protocols == [.tls13])
        #expect(try make(["TLSv1.3", "TLSv1.2", "TLSv1.3"]).protocols == [.tls12, .tls13])
        for old in ["TLSv1.1", "TLSv1", "SSLv3"] {
            #expect { try make([.string(old)]) } throws: {
                ($0 as? ValidationError)?.message == "invalid ssl_protocols: \(old) is insecure and not supported (TLSv1.2 and TLSv1.3 are)"
            }
        }
        #expect { try make([]) } throws: { ($0 as? ValidationError)?.field == "ssl_protocols" }
        #expect { try make(["TLSv2"]) } throws: { ($0 as? ValidationError)?.message.contains("unknown version TLSv2") == true }
    }

    @Test func aCertificateWithItsChainIsAccepted() throws {
        let ca = try TestCA.root("root")
        let intermediate = try ca.intermediate("intermediate")
        let leaf = try intermediate.issue(cn: "mqtt.example.com", dns: ["mqtt.example.com"])
        let ssl = try SSLObject(json: ["cert": .string(leaf.chain(with: [intermediate.issued])), "key": .string(leaf.key),
                                       "snis": ["mqtt.example.com"]], id: "1")
        #expect(ssl.summary.dnsNames == ["mqtt.example.com"])
    }

    @Test func upstreamClientCertificatesAreCheckedAndReferencesResolved() throws {
        let ca = try TestCA.root("root")
        let mine = try ca.issue(cn: "proxy")
        let other = try ca.issue(cn: "other")
        let node: JSONValue = ["nodes": ["127.0.0.1:1883": 1], "type": "roundrobin", "scheme": "tls"]
        var up = node
        up["tls"] = ["client_cert": .string(mine.cert), "client_key": .string(other.key)]
        #expect { try Upstream(json: up) } throws: {
            ($0 as? ValidationError)?.message == "key does not match the certificate"
        }
        up["tls"] = ["client_cert": .string(mine.cert), "client_key": .string(mine.key), "verify": true]
        #expect(try Upstream(json: up).tls?.verify == true)

        var resources = ProxyResources()
        up["tls"] = ["client_cert_id": "c1"]
        try resources.put(kind: .upstreams, id: "u1", json: up, index: 1)
        #expect(resources.referenceErrors().first?.error.message == "failed to fetch ssl info by ssl id [c1]")
        try resources.put(kind: .ssls, id: "c1", json: ["cert": .string(mine.cert), "key": .string(mine.key),
                                                         "type": "client"], index: 2)
        #expect(resources.referenceErrors().isEmpty)
        #expect(resources.clientCertificate(for: resources.upstreams["u1"]!.value)?.id == "c1")
        #expect(resources.referencesTo(ssl: "c1") == ["upstream [u1]"])
    }
}

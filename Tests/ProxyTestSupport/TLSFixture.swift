import Foundation
import ProxyModel

/// Certificates for the TLS tests, made once: a root CA with an intermediate, a second unrelated CA, and
/// server and client certificates from them.
public struct TLSFixture: Sendable {
    public let ca: TestCA
    public let intermediate: TestCA
    public let otherCA: TestCA
    /// Server certificate for two SNIs.
    public let server: IssuedCertificate
    /// RSA server certificate for the same SNIs (the extra pair).
    public let serverRSA: IssuedCertificate
    /// Server certificate for `*.fleet.example.com`.
    public let wildcard: IssuedCertificate
    public let client: IssuedCertificate
    public let expiredClient: IssuedCertificate
    public let foreignClient: IssuedCertificate
    /// A client certificate issued by the intermediate (chain depth 2).
    public let deepClient: IssuedCertificate

    public static let shared: TLSFixture = try! TLSFixture()

    public init() throws {
        ca = try TestCA.root("mqtt-proxy test root")
        intermediate = try ca.intermediate("mqtt-proxy test intermediate")
        otherCA = try TestCA.root("somebody else's CA")
        server = try ca.issue(cn: "mqtt.example.com", dns: ["mqtt.example.com", "broker.example.com"], ips: ["127.0.0.1"])
        serverRSA = try ca.issue(cn: "mqtt.example.com (RSA)", dns: ["mqtt.example.com", "broker.example.com"],
                                 keyKind: .rsa2048)
        wildcard = try ca.issue(cn: "fleet wildcard", dns: ["*.fleet.example.com"])
        client = try ca.issue(cn: "device-7", dns: ["device-7.fleet.example.com"])
        expiredClient = try ca.issue(cn: "old-device", notBefore: Date().addingTimeInterval(-86400 * 10),
                                     notAfter: Date().addingTimeInterval(-86400))
        foreignClient = try otherCA.issue(cn: "intruder")
        deepClient = try intermediate.issue(cn: "deep-device")
    }

    /// ssl objects: "1" for the two exact names with mTLS (and an RSA extra pair), "2" the wildcard without.
    public func ssls(depth: Int = 1, mtls: Bool = true) -> [(String, JSONValue)] {
        var exact: JSONValue = [
            "cert": .string(server.cert), "key": .string(server.key),
            "snis": ["mqtt.example.com", "broker.example.com"],
            "certs": .array([.string(serverRSA.cert)]), "keys": .array([.string(serverRSA.key)]),
        ]
        if mtls { exact["client"] = ["ca": .string(ca.cert), "depth": .int(depth)] }
        return [("1", exact), ("2", ["cert": .string(wildcard.cert), "key": .string(wildcard.key),
                                     "snis": ["*.fleet.example.com"]])]
    }

    public func options(sni: String?) -> TLSClientOptions {
        TLSClientOptions(serverName: sni, trustedCA: ca.cert)
    }
}


extension ProxyResources {
    /// Resources with ssl objects as well as routes.
    public static func with(ssls: [(String, JSONValue)], routes: [(String, JSONValue)]) throws -> ProxyResources {
        var r = try ProxyResources.with(routes: routes)
        for (i, (id, body)) in ssls.enumerated() { try r.put(kind: .ssls, id: id, json: body, index: 100 + i) }
        return r
    }
}

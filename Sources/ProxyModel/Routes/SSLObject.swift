/// mTLS settings of an ssl object (`client`): the CA client certificates must chain to, and how deep.
public struct ClientVerification: Sendable, Hashable {
    /// PEM of the trusted CA certificate(s).
    public var ca: String
    /// Most intermediate certificates between the client's certificate and the CA, plus one (nginx's
    /// `ssl_verify_depth`; APISIX's default is 1: the CA signed the client certificate itself).
    public var depth: Int

    public init(ca: String, depth: Int = 1) {
        self.ca = ca
        self.depth = depth
    }
}

/// A TLS protocol version an ssl object may allow (`ssl_protocols`); nothing older than TLS 1.2.
public enum TLSProtocolVersion: String, Sendable, Hashable, CaseIterable, Comparable {
    case tls12 = "TLSv1.2"
    case tls13 = "TLSv1.3"

    public static func < (a: TLSProtocolVersion, b: TLSProtocolVersion) -> Bool { a.rawValue < b.rawValue }
}

/// A certificate object (`/apisix/admin/ssls`): the certificate(s) and key(s) a TLS listener presents for its
/// SNIs, optionally with a CA that client certificates must chain to (mTLS).
public struct SSLObject: Sendable, Hashable {
    public var id: String
    public var cert: String
    public var key: String
    public var snis: [String]
    public var type: String
    public var status: Int
    /// Extra certificate/key pairs (e.g. RSA beside ECDSA).
    public var extraPairs: [(cert: String, key: String)] = []
    /// Facts about the main certificate.
    public var summary: CertificateSummary
    /// mTLS: when set, clients must present a certificate that chains to `client.ca`.
    public var client: ClientVerification?
    /// Allowed protocol versions; empty means the listener default (TLS 1.2 and 1.3).
    public var protocols: [TLSProtocolVersion] = []
    /// Whether the object is in use (`status: 1`).
    public var enabled: Bool { status == 1 }

    public static func == (a: SSLObject, b: SSLObject) -> Bool {
        a.id == b.id && a.cert == b.cert && a.key == b.key && a.snis == b.snis && a.type == b.type
            && a.status == b.status && a.extraPairs.map(\.cert) == b.extraPairs.map(\.cert)
            && a.extraPairs.map(\.key) == b.extraPairs.map(\.key) && a.client == b.client && a.protocols == b.protocols
    }

    public func hash(into h: inout Hasher) {
        h.combine(id)
        h.combine(cert)
        h.combine(snis)
    }

    /// Decodes an ssl object, checking field types and the SNI list.
    public init(json: JSONValue, id overrideID: String? = nil) throws(ValidationError) {
        var r = try ObjectReader(json, what: "ssl")
        var bodyID: String?
        if let v = r.value("id") { bodyID = try ObjectID.parse(v) }
        if let overrideID, let bodyID, overrideID != bodyID {
            throw ValidationError(field: "id", "wrong ssl id: \(bodyID) in the body, \(overrideID) in the URL")
        }
        guard let id = overrideID ?? bodyID else { throw ValidationError(field: "id", "missing id") }
        self.id = id
        type = try r.string("type") ?? "server"
        guard type == "server" || type == "client" else { throw r.error("type", "invalid type: \(type)") }
        guard let cert = try r.string("cert", minLength: 1) else { throw r.error("cert", "missing cert") }
        guard let key = try r.string("key", minLength: 1) else { throw r.error("key", "missing key") }
        self.cert = cert
        self.key = key
        var names: [String] = []
        if let sni = try r.string("sni", minLength: 1) { names.append(sni) }
        if let list = r.value("snis") {
            guard case .array(let items) = list, !items.isEmpty else {
                throw r.error("snis", "invalid snis: expected a non-empty array of host names")
            }
            for item in items {
                guard let s = item.stringValue, StreamRoute.isValidSNI(s) else {
                    throw r.error("snis", "invalid snis: \(item.jsonText)")
                }
                names.append(s)
            }
        }
        if type == "server", names.isEmpty { throw r.error("snis", "missing snis") }
        snis = names.map { $0.lowercased() }
        status = try r.integer("status", range: 0...1) ?? 1
        summary = try SSLObject.checkPair(cert: cert, key: key, field: "")
        let certs = try SSLObject.stringList(&r, "certs")
        let keys = try SSLObject.stringList(&r, "keys")
        guard certs.count == keys.count else {
            throw r.error("keys", "invalid keys: certs and keys must have the same number of entries")
        }
        for (i, (c, k)) in zip(certs, keys).enumerated() {
            _ = try SSLObject.checkPair(cert: c, key: k, field: "certs[\(i)]")
            extraPairs.append((c, k))
        }
        if let c = r.value("client") { client = try SSLObject.decodeClient(c, path: r.path("client")) }
        protocols = try SSLObject.decodeProtocols(&r)
        for key in ["labels", "create_time", "update_time", "validity_start", "validity_end"] { _ = r.value(key) }
        try r.rejectUnknown()
    }
}

extension SSLObject {
    /// `client: {ca, depth}`: the CA must be one or more PEM certificates; depth 0…9 (default 1).
    static func decodeClient(_ value: JSONValue, path: String) throws(ValidationError) -> ClientVerification {
        var r = try ObjectReader(value, prefix: path, what: "client")
        guard let ca = try r.string("ca", minLength: 1) else { throw r.error("ca", "missing client.ca") }
        let count = SSLObject.countCertificates(ca)
        guard count > 0 else {
            throw r.error("ca", "invalid client.ca: not a PEM certificate")
        }
        let depth = try r.integer("depth", range: 0...9) ?? 1
        _ = r.value("skip_mtls_uri_regex")
        try r.rejectUnknown()
        return ClientVerification(ca: ca, depth: depth)
    }

    /// `ssl_protocols`: a list of `TLSv1.2` / `TLSv1.3`; older versions are refused.
    static func decodeProtocols(_ r: inout ObjectReader) throws(ValidationError) -> [TLSProtocolVersion] {
        guard let v = r.value("ssl_protocols") else { return [] }
        guard case .array(let items) = v, !items.isEmpty else {
            throw r.error("ssl_protocols", "invalid ssl_protocols: expected a non-empty list such as [\"TLSv1.2\", \"TLSv1.3\"]")
        }
        var out: [TLSProtocolVersion] = []
        for item in items {
            guard let s = item.stringValue else { throw r.error("ssl_protocols", "invalid ssl_protocols: expected strings") }
            guard let version = TLSProtocolVersion(rawValue: s) else {
                if ["SSLv2", "SSLv3", "TLSv1", "TLSv1.1"].contains(s) {
                    throw r.error("ssl_protocols", "invalid ssl_protocols: \(s) is insecure and not supported (TLSv1.2 and TLSv1.3 are)")
                }
                throw r.error("ssl_protocols", "invalid ssl_protocols: unknown version \(s) (expected TLSv1.2 or TLSv1.3)")
            }
            if !out.contains(version) { out.append(version) }
        }
        return out.sorted()
    }

    static func stringList(_ r: inout ObjectReader, _ key: String) throws(ValidationError) -> [String] {
        guard let v = r.value(key) else { return [] }
        guard case .array(let items) = v else { throw r.error(key, "invalid \(key): expected an array of PEM strings") }
        var out: [String] = []
        for item in items {
            guard let s = item.stringValue else { throw r.error(key, "invalid \(key): expected PEM strings") }
            out.append(s)
        }
        return out
    }
}

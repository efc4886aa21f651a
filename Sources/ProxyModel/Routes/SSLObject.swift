/// A certificate object (`/apisix/admin/ssls`): certificate and key are parsed and must match; TLS termination
/// uses it later.
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

    public static func == (a: SSLObject, b: SSLObject) -> Bool {
        a.id == b.id && a.cert == b.cert && a.key == b.key && a.snis == b.snis && a.type == b.type
            && a.status == b.status && a.extraPairs.map(\.cert) == b.extraPairs.map(\.cert)
            && a.extraPairs.map(\.key) == b.extraPairs.map(\.key)
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
        for key in ["client", "ssl_protocols", "labels", "create_time", "update_time",
                    "validity_start", "validity_end"] { _ = r.value(key) }
        try r.rejectUnknown()
    }
}

extension SSLObject {
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

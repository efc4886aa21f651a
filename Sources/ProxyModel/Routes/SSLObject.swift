/// A certificate object (`/apisix/admin/ssls`): kept and checked for shape now; TLS termination uses it later.
public struct SSLObject: Sendable, Hashable {
    public var id: String
    public var cert: String
    public var key: String
    public var snis: [String]
    public var type: String
    public var status: Int

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
        guard let cert = try r.string("cert", minLength: 128) else { throw r.error("cert", "missing cert") }
        guard let key = try r.string("key", minLength: 128) else { throw r.error("key", "missing key") }
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
        for key in ["certs", "keys", "client", "ssl_protocols", "labels", "create_time", "update_time",
                    "validity_start", "validity_end"] { _ = r.value(key) }
        try r.rejectUnknown()
    }
}

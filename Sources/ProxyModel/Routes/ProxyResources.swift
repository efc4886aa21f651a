import OrderedCollections

/// The three kinds of object the store holds, named as in APISIX's key layout.
public enum ResourceKind: String, Sendable, CaseIterable {
    case streamRoutes = "stream_routes"
    case upstreams
    case ssls

    /// Singular noun for messages ("stream route").
    public var noun: String {
        switch self {
        case .streamRoutes: return "stream route"
        case .upstreams: return "upstream"
        case .ssls: return "ssl"
        }
    }
}

/// One stored object: its validated form plus the JSON as written (no defaults filled in).
public struct StoredObject<Value: Sendable & Hashable>: Sendable, Hashable {
    public var id: String
    public var value: Value
    public var raw: JSONValue
    public var createdIndex: Int
    public var modifiedIndex: Int

    public init(id: String, value: Value, raw: JSONValue, createdIndex: Int = 0, modifiedIndex: Int = 0) {
        self.id = id
        self.value = value
        self.raw = raw
        self.createdIndex = createdIndex
        self.modifiedIndex = modifiedIndex
    }
}

/// Everything the store holds at one moment: stream routes (in match order), upstreams and ssl objects.
public struct ProxyResources: Sendable, Hashable {
    public var streamRoutes: OrderedDictionary<String, StoredObject<StreamRoute>> = [:]
    public var upstreams: OrderedDictionary<String, StoredObject<Upstream>> = [:]
    public var ssls: OrderedDictionary<String, StoredObject<SSLObject>> = [:]

    public init() {}

    /// The upstream a route sends to: inline, by `upstream_id`, or the legacy plugin upstream.
    public func upstream(for route: StreamRoute) -> Upstream? {
        if let inline = route.upstream { return inline }
        if let id = route.upstreamID { return upstreams[id]?.value }
        if let legacy = route.mqttProxy?.legacyUpstream { return Upstream(nodes: [legacy]) }
        return nil
    }

    /// Cross-object checks: every `upstream_id` must name a stored upstream, and every upstream
    /// `tls.client_cert_id` an ssl object of type `client`.
    public func referenceErrors() -> [(kind: ResourceKind, id: String, error: ValidationError)] {
        var errors: [(ResourceKind, String, ValidationError)] = []
        for (id, route) in streamRoutes {
            if let upID = route.value.upstreamID, upstreams[upID] == nil {
                errors.append((.streamRoutes, id,
                               ValidationError(field: "upstream_id", "failed to fetch upstream info by upstream id [\(upID)]")))
            }
            if let inline = route.value.upstream, let e = clientCertError(inline, field: "upstream.tls.client_cert_id") {
                errors.append((.streamRoutes, id, e))
            }
        }
        for (id, upstream) in upstreams {
            if let e = clientCertError(upstream.value, field: "tls.client_cert_id") { errors.append((.upstreams, id, e)) }
        }
        return errors
    }

    /// The client certificate an upstream names by `tls.client_cert_id`, if it is a stored `client` ssl object.
    public func clientCertificate(for upstream: Upstream) -> SSLObject? {
        guard let id = upstream.tls?.clientCertID, let ssl = ssls[id]?.value, ssl.type == "client" else { return nil }
        return ssl
    }

    private func clientCertError(_ upstream: Upstream, field: String) -> ValidationError? {
        guard let id = upstream.tls?.clientCertID else { return nil }
        guard let ssl = ssls[id] else {
            return ValidationError(field: field, "failed to fetch ssl info by ssl id [\(id)]")
        }
        guard ssl.value.type == "client" else {
            return ValidationError(field: field, "ssl [\(id)] is of type \(ssl.value.type); client_cert_id needs type client")
        }
        return nil
    }

    /// The objects ("upstream [u1]", "stream route [r1]") whose upstream uses ssl `id` as its client certificate.
    public func referencesTo(ssl id: String) -> [String] {
        var out: [String] = []
        for (uid, u) in upstreams where u.value.tls?.clientCertID == id { out.append("upstream [\(uid)]") }
        for (rid, r) in streamRoutes where r.value.upstream?.tls?.clientCertID == id { out.append("stream route [\(rid)]") }
        return out
    }

    /// IDs of the stream routes that use upstream `id` by reference.
    public func routesReferencing(upstream id: String) -> [String] {
        streamRoutes.values.filter { $0.value.upstreamID == id }.map(\.id)
    }

    /// Validates `json` as an object of `kind` with the given id and returns the decoded value's id.
    public static func validate(kind: ResourceKind, json: JSONValue, id: String?) throws(ValidationError) -> String {
        switch kind {
        case .streamRoutes: return try StreamRoute(json: json, id: id).id
        case .ssls: return try SSLObject(json: json, id: id).id
        case .upstreams:
            let up = try Upstream(json: json)
            if let id, let bodyID = up.id, id != bodyID {
                throw ValidationError(field: "id", "wrong upstream id: \(bodyID) in the body, \(id) in the URL")
            }
            guard let resolved = id ?? up.id else { throw ValidationError(field: "id", "missing id") }
            return resolved
        }
    }

    /// Inserts or replaces an object after validating it; returns true when it was new.
    @discardableResult
    public mutating func put(kind: ResourceKind, id: String, json: JSONValue, index: Int) throws(ValidationError)
        -> Bool
    {
        var raw = json
        raw["id"] = .string(id)
        switch kind {
        case .streamRoutes:
            let value = try StreamRoute(json: raw, id: id)
            let created = streamRoutes[id]?.createdIndex ?? index
            let isNew = streamRoutes[id] == nil
            streamRoutes[id] = StoredObject(id: id, value: value, raw: raw, createdIndex: created, modifiedIndex: index)
            return isNew
        case .upstreams:
            var value = try Upstream(json: raw)
            value.id = id
            let created = upstreams[id]?.createdIndex ?? index
            let isNew = upstreams[id] == nil
            upstreams[id] = StoredObject(id: id, value: value, raw: raw, createdIndex: created, modifiedIndex: index)
            return isNew
        case .ssls:
            let value = try SSLObject(json: raw, id: id)
            let created = ssls[id]?.createdIndex ?? index
            let isNew = ssls[id] == nil
            ssls[id] = StoredObject(id: id, value: value, raw: raw, createdIndex: created, modifiedIndex: index)
            return isNew
        }
    }

    /// Removes an object; returns false when there was none.
    @discardableResult
    public mutating func remove(kind: ResourceKind, id: String) -> Bool {
        switch kind {
        case .streamRoutes: return streamRoutes.removeValue(forKey: id) != nil
        case .upstreams: return upstreams.removeValue(forKey: id) != nil
        case .ssls: return ssls.removeValue(forKey: id) != nil
        }
    }

    /// The raw stored JSON of every object of `kind`, in order.
    public func rawObjects(_ kind: ResourceKind) -> [JSONValue] {
        switch kind {
        case .streamRoutes: return streamRoutes.values.map(\.raw)
        case .upstreams: return upstreams.values.map(\.raw)
        case .ssls: return ssls.values.map(\.raw)
        }
    }
}

/// Stored objects of one kind by id, in store order.
public typealias StoredObjects<V: Sendable & Hashable> = OrderedDictionary<String, StoredObject<V>>

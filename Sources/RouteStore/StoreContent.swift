import ProxyModel

/// The writes both stores make the same way: validating an object against the rest of the content, the
/// server-set fields (`id`, `create_time`, `update_time`), the reference checks of a delete, and the views the
/// admin API shows. One implementation, whatever the store is (a file, etcd).
enum StoreContent {
    /// What a put of `json` would do to `resources`; `generatedID` gives the id when neither the path nor the body
    /// has one, `now` is unix seconds, `index` the createdIndex/modifiedIndex the object would get.
    static func prepare(_ kind: ResourceKind, id: String?, json: JSONValue, resources: ProxyResources, now: Int,
                        index: Int, generatedID: () throws(StoreError) -> String) throws(StoreError) -> PreparedChange
    {
        guard case .object = json else {
            throw .invalid(ValidationError(field: "", "invalid \(kind.noun): expected a JSON object"))
        }
        var body = json
        if id == nil, body["id"] == nil { body["id"] = .string(try generatedID()) }
        let resolvedID: String
        do {
            if let id { try ObjectID.validate(id) }
            resolvedID = try ProxyResources.validate(kind: kind, json: body, id: id)
        } catch {
            throw .invalid(error)
        }
        var updated = resources
        let existing = view(kind, resolvedID, in: resources)
        body["id"] = .string(resolvedID)
        body["create_time"] = existing?.value["create_time"] ?? .int(now)
        body["update_time"] = .int(now)
        let created: Bool
        do { created = try updated.put(kind: kind, id: resolvedID, json: body, index: index) } catch {
            throw .invalid(error)
        }
        if let problem = updated.referenceErrors().first(where: { $0.kind == kind && $0.id == resolvedID }) {
            throw .invalid(problem.error)
        }
        return PreparedChange(id: resolvedID, created: created, resources: updated, value: body,
                              previous: existing?.value)
    }

    /// Refuses a delete that would break a reference (unless `force`): an upstream a stream route uses, an ssl
    /// object an upstream uses as its client certificate.
    static func checkDelete(_ kind: ResourceKind, id: String, force: Bool, in resources: ProxyResources)
        throws(StoreError)
    {
        guard !force else { return }
        if kind == .upstreams, let first = resources.routesReferencing(upstream: id).first {
            throw .conflict("can not delete this upstream, stream route [\(first)] is still using it now")
        }
        if kind == .ssls, let user = resources.referencesTo(ssl: id).first {
            throw .conflict("can not delete this ssl, \(user) is still using it as tls.client_cert_id")
        }
    }

    /// One object as the admin API shows it.
    static func view(_ kind: ResourceKind, _ id: String, in resources: ProxyResources) -> StoredObjectView? {
        switch kind {
        case .streamRoutes: resources.streamRoutes[id].map { view(kind, $0) }
        case .upstreams: resources.upstreams[id].map { view(kind, $0) }
        case .ssls: resources.ssls[id].map { view(kind, $0) }
        }
    }

    private static func view<V>(_ kind: ResourceKind, _ object: StoredObject<V>) -> StoredObjectView {
        StoredObjectView(kind: kind, id: object.id, value: object.raw, createdIndex: object.createdIndex,
                         modifiedIndex: object.modifiedIndex)
    }

    /// Every object of `kind`, in store order.
    static func list(_ kind: ResourceKind, in resources: ProxyResources) -> [StoredObjectView] {
        let ids: [String]
        switch kind {
        case .streamRoutes: ids = Array(resources.streamRoutes.keys)
        case .upstreams: ids = Array(resources.upstreams.keys)
        case .ssls: ids = Array(resources.ssls.keys)
        }
        return ids.compactMap { view(kind, $0, in: resources) }
    }

    /// APISIX's generated ids: 20 digits, zero-padded.
    static func paddedID(_ number: UInt64) -> String {
        let digits = String(number)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits
    }
}

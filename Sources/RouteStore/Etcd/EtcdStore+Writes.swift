import Foundation
import ProxyModel

/// Admin writes, as transactions: a put replaces only the version it was validated against (or creates only what
/// does not exist), a delete of an upstream or ssl object only succeeds while nothing that could use it changed.
/// A write that loses a race is validated again against etcd's content and retried.
extension EtcdStore {
    public func prepare(_ kind: ResourceKind, id: String?, json: JSONValue) async throws(StoreError) -> PreparedChange {
        try await prepare(kind, id: id, json: json, in: resources)
    }

    private func prepare(_ kind: ResourceKind, id: String?, json: JSONValue, in content: ProxyResources)
        async throws(StoreError) -> PreparedChange
    {
        var generated: String?
        if id == nil, json["id"] == nil { generated = try await generateID() }
        return try StoreContent.prepare(kind, id: id, json: json, resources: content, now: clock(), index: 0) {
            generated ?? ""
        }
    }

    @discardableResult
    public func put(_ kind: ResourceKind, id: String?, json: JSONValue) async throws(StoreError) -> PutResult {
        var content = resources
        for _ in 0..<5 {
            let change = try await prepare(kind, id: id, json: json, in: content)
            let key = keys.key(kind, change.id)
            let existing = StoreContent.view(kind, change.id, in: content)
            var compare: [JSONValue] = [existing.map { Self.compare(key, "MOD", "EQUAL", $0.modifiedIndex) }
                ?? Self.compare(key, "CREATE", "EQUAL", 0)]
            compare += referenceGuards(change, kind: kind)
            let value = Array(change.value.jsonText.utf8)
            let (succeeded, revision) = try await transaction(compare: compare, success: [Self.putOp(key, value)])
            if succeeded {
                let kv = EtcdKV(key: key, value: value, createRevision: existing?.createdIndex ?? revision,
                                modRevision: revision)
                applyOwnWrite(kv, kind: kind, id: change.id, deleted: false)
                guard let object = StoreContent.view(kind, change.id, in: resources) else { break }
                return PutResult(created: existing == nil, object: object)
            }
            content = try await fresh().content
        }
        throw .conflict("value changed before overwritten: \(kind.noun) changed in etcd while it was being written; try again")
    }

    @discardableResult
    public func delete(_ kind: ResourceKind, id: String, force: Bool) async throws(StoreError) -> StoredObjectView {
        var (content, readAt) = (resources, sourceRevision)
        for _ in 0..<5 {
            guard let old = StoreContent.view(kind, id, in: content) else { throw .notFound(kind: kind, id: id) }
            try StoreContent.checkDelete(kind, id: id, force: force, in: content)
            let key = keys.key(kind, id)
            var compare = [Self.compare(key, "MOD", "EQUAL", old.modifiedIndex)]
            if !force, kind != .streamRoutes {
                // Nothing that could reference it may have changed since the content the check read.
                for dependent in kind == .upstreams ? [ResourceKind.streamRoutes] : [.streamRoutes, .upstreams] {
                    compare.append(Self.compare(keys.directory(dependent), "MOD", "LESS", readAt + 1,
                                                rangeEnd: EtcdClient.rangeEnd(keys.directory(dependent))))
                }
            }
            let (succeeded, revision) = try await transaction(compare: compare, success: [
                ["request_delete_range": ["key": .string(EtcdClient.b64(key))]],
            ])
            if succeeded {
                applyOwnWrite(EtcdKV(key: key, value: [], createRevision: 0, modRevision: revision), kind: kind, id: id,
                              deleted: true)
                return old
            }
            (content, readAt) = try await fresh()
        }
        throw .conflict("\(kind.noun) \(id) changed in etcd while it was being deleted; try again")
    }

    // MARK: - Helpers

    /// APISIX's generated ids: the revision of a put of `{prefix}/gen_id`, as 20 zero-padded digits.
    private func generateID() async throws(StoreError) -> String {
        do {
            let revision = try await client.put(keys.prefix + "/gen_id", Array("1".utf8))
            return StoreContent.paddedID(UInt64(revision))
        } catch {
            throw Self.storeError(error)
        }
    }

    /// A route naming an upstream by id, or an upstream naming a client certificate, needs it to exist when the
    /// write lands.
    private func referenceGuards(_ change: PreparedChange, kind: ResourceKind) -> [JSONValue] {
        var guards: [JSONValue] = []
        if kind == .streamRoutes, let route = change.resources.streamRoutes[change.id]?.value {
            if let upstreamID = route.upstreamID {
                guards.append(Self.compare(keys.key(.upstreams, upstreamID), "VERSION", "GREATER", 0))
            }
            if let certID = route.upstream?.tls?.clientCertID {
                guards.append(Self.compare(keys.key(.ssls, certID), "VERSION", "GREATER", 0))
            }
        }
        if kind == .upstreams, let certID = change.resources.upstreams[change.id]?.value.tls?.clientCertID {
            guards.append(Self.compare(keys.key(.ssls, certID), "VERSION", "GREATER", 0))
        }
        return guards
    }

    /// Everything read again from etcd (after a lost race), as a content to validate against, and its revision.
    private func fresh() async throws(StoreError) -> (content: ProxyResources, revision: Int) {
        do {
            let (revision, kvs) = try await client.range(prefix: keys.prefix + "/")
            var content = ProxyResources()
            for kv in kvs {
                guard let (kind, id) = keys.parse(kv.key) else { continue }
                _ = Self.put(kv, kind: kind, id: id, into: &content)
            }
            return (content, revision)
        } catch {
            throw Self.storeError(error)
        }
    }

    private func transaction(compare: [JSONValue], success: [JSONValue]) async throws(StoreError)
        -> (Bool, Int)
    {
        do {
            let result = try await client.txn(compare: compare, success: success)
            return (result.succeeded, result.revision)
        } catch {
            throw Self.storeError(error)
        }
    }

    /// Makes a write of ours live at once (the watch brings it again later and it is skipped then).
    private func applyOwnWrite(_ kv: EtcdKV, kind: ResourceKind, id: String, deleted: Bool) {
        if deleted {
            resources.remove(kind: kind, id: id)
        } else if let problem = Self.put(kv, kind: kind, id: id, into: &resources) {
            logger.error("etcd: \(problem)")
            return
        }
        changeCount += 1
        notify(.changed(snapshot(), kind: kind, id: id, deleted: deleted))
        writeCache()
    }

    static func storeError(_ error: EtcdError) -> StoreError {
        switch error {
        case .unreachable: .unavailable("etcd unreachable, nothing was changed: \(error)")
        default: .io("etcd refused the write: \(error)")
        }
    }

    static func compare(_ key: String, _ target: String, _ result: String, _ number: Int, rangeEnd: [UInt8]? = nil)
        -> JSONValue
    {
        let field = switch target {
        case "MOD": "mod_revision"
        case "CREATE": "create_revision"
        default: "version"
        }
        var compare: JSONValue = ["target": .string(target), "result": .string(result), "key": .string(EtcdClient.b64(key))]
        compare[field] = .string(String(number))
        if let rangeEnd { compare["range_end"] = .string(EtcdClient.b64(rangeEnd)) }
        return compare
    }

    static func putOp(_ key: String, _ value: [UInt8]) -> JSONValue {
        ["request_put": ["key": .string(EtcdClient.b64(key)), "value": .string(EtcdClient.b64(value))]]
    }
}

import Foundation
import ProxyModel

/// The last good content of an etcd store, in a local file written atomically after every change, so that an
/// instance started while etcd is down still routes (APISIX refuses to start then).
struct EtcdCache: Sendable {
    let path: String

    /// What the cache holds: the pairs under the prefix, and the revision they were read at.
    struct Content: Sendable {
        var revision: Int
        var kvs: [EtcdKV]
    }

    func write(_ content: Content) throws(StoreError) {
        let objects: [JSONValue] = content.kvs.map { kv in
            ["key": .string(kv.key), "value": .string(String(decoding: kv.value, as: UTF8.self)),
             "create_revision": .int(kv.createRevision), "mod_revision": .int(kv.modRevision)]
        }
        let json: JSONValue = ["revision": .int(content.revision), "kvs": .array(objects)]
        try AtomicFile.write(json.jsonText + "\n", to: path)
    }

    /// The cached content; nil when there is none, or it is not ours.
    func read() -> Content? {
        guard AtomicFile.exists(path), let text = try? AtomicFile.read(path),
              let json = try? JSONParser.parse(Array(text.utf8)), let revision = json["revision"]?.intValue,
              let items = json["kvs"]?.arrayValue
        else { return nil }
        let kvs = items.compactMap { item -> EtcdKV? in
            guard let key = item["key"]?.stringValue, let value = item["value"]?.stringValue else { return nil }
            return EtcdKV(key: key, value: Array(value.utf8), createRevision: item["create_revision"]?.intValue ?? 0,
                          modRevision: item["mod_revision"]?.intValue ?? 0)
        }
        return Content(revision: revision, kvs: kvs)
    }
}

/// The keys of APISIX's layout: `{prefix}/stream_routes/{id}`, `{prefix}/upstreams/{id}`, `{prefix}/ssls/{id}`.
struct EtcdKeys: Sendable {
    /// Without a trailing slash: `/apisix`.
    let prefix: String

    func key(_ kind: ResourceKind, _ id: String) -> String { "\(prefix)/\(kind.rawValue)/\(id)" }

    func directory(_ kind: ResourceKind) -> String { "\(prefix)/\(kind.rawValue)/" }

    /// The kind and id a key names; nil for other keys under the prefix (routes, services, plugins, the
    /// directories' `init_dir` placeholders…), which are none of ours.
    func parse(_ key: String) -> (kind: ResourceKind, id: String)? {
        guard key.hasPrefix(prefix + "/") else { return nil }
        let rest = key.dropFirst(prefix.count + 1)
        guard let slash = rest.firstIndex(of: "/") else { return nil }
        let id = rest[rest.index(after: slash)...]
        guard let kind = ResourceKind(rawValue: String(rest[..<slash])), !id.isEmpty, !id.contains("/") else {
            return nil
        }
        return (kind, String(id))
    }
}

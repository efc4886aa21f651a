import Foundation
import Hummingbird
import ProxyModel
import RouteStore

/// `/v1/store`: where the routes come from and whether it answers; `/v1/fleet`: the instances registered in etcd.
struct StoreRoutes: Sendable {
    let store: any RouteStore

    func register(on router: Router<AdminContext>) {
        router.get("/v1/store") { _, _ in
            JSONResponse.make(.ok, StoreRoutes.json(await store.status()))
        }
        router.get("/v1/fleet") { _, _ in
            guard let etcd = store as? EtcdStore else {
                return JSONResponse.make(.ok, ["instances": [], "total": 0, "provider": "file"])
            }
            let members: [FleetMember]
            do { members = try await etcd.fleet() } catch { throw AdminError(.serviceUnavailable, "\(error)") }
            return JSONResponse.make(.ok, [
                "instances": .array(members.map { m in
                    [
                        "id": .string(m.id), "hostname": .string(m.hostname), "version": .string(m.version),
                        "boot_time": .int(m.bootTime), "listeners": .array(m.listeners.map(JSONValue.string)),
                        "admin": m.admin.map(JSONValue.string) ?? .null,
                    ]
                }),
                "total": .int(members.count), "provider": "etcd",
            ])
        }
    }

    /// A store status as `/v1/store` shows it.
    static func json(_ s: StoreStatus) -> JSONValue {
        [
            "provider": .string(s.provider), "location": .string(s.location), "reachable": .bool(s.reachable),
            "since": .int(Int(s.since)), "last_error": s.lastError.map(JSONValue.string) ?? .null,
            "source_revision": s.sourceRevision.map(JSONValue.int) ?? .null, "from_cache": .bool(s.fromCache),
        ]
    }
}

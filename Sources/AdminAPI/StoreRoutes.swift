import Foundation
import Hummingbird
import ProxyControl
import ProxyModel
import RouteStore

/// `/v1/store`: where the routes come from, whether it answers and the store's revision (followers poll it); `/v1/fleet`: the instances registered in etcd.
struct StoreRoutes: Sendable {
    let store: any RouteStore

    func register(on router: Router<AdminContext>) {
        router.get("/v1/store") { _, _ in
            var body = SnapshotJSON.store(await store.status())
            body["revision"] = .int(await store.snapshot().revision)
            return JSONResponse.make(.ok, body)
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
}

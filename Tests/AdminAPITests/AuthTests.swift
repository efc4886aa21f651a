import AdminAPI
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ProxyModel
import Testing

@Suite("Admin API: keys, roles and allow_admin")
struct AuthTests {
    @Test func missingAndWrongKeysAre401WithAPISIXBodies() async throws {
        let rig = try await AdminRig()
        defer { rig.cleanup() }
        try await rig.app.test(.router) { client in
            let missing = try await client.call(.get, "/apisix/admin/stream_routes", key: nil)
            #expect(missing.status == .unauthorized)
            #expect(missing.json == ["error_msg": "failed to check token", "description": "missing apikey"])
            let wrong = try await client.call(.get, "/apisix/admin/stream_routes", key: "nope")
            #expect(wrong.status == .unauthorized)
            #expect(wrong.json == ["error_msg": "failed to check token", "description": "wrong apikey"])
        }
    }

    @Test func theKeyMayComeFromHeaderQueryOrCookie() async throws {
        let rig = try await AdminRig()
        defer { rig.cleanup() }
        try await rig.app.test(.router) { client in
            let header = try await client.call(.get, "/apisix/admin/upstreams")
            #expect(header.status == .ok)
            let query = try await client.call(.get, "/apisix/admin/upstreams?api_key=\(adminKey)", key: nil)
            #expect(query.status == .ok)
            let cookie: HTTPFields = [.cookie: "x_api_key=\(adminKey)"]
            let viaCookie = try await client.call(.get, "/apisix/admin/upstreams", key: nil, headers: cookie)
            #expect(viaCookie.status == .ok)
        }
    }

    @Test func viewersMayOnlyRead() async throws {
        let rig = try await AdminRig()
        defer { rig.cleanup() }
        try await rig.app.test(.router) { client in
            let read = try await client.call(.get, "/apisix/admin/stream_routes", key: viewerKey)
            #expect(read.status == .ok)
            let put = try await client.call(.put, "/apisix/admin/stream_routes/1", key: viewerKey, body: seedRoundRobin)
            #expect(put.status == .unauthorized)
            #expect(put.json?["description"] == "invalid method for role viewer")
            let del = try await client.call(.delete, "/apisix/admin/stream_routes/1", key: viewerKey)
            #expect(del.status == .unauthorized)
        }
    }

    @Test func keysCanBeSwitchedOff() async throws {
        let noKeys = AdminRig.settings { $0.admin.keyRequired = false }
        let rig = try await AdminRig(settings: noKeys)
        defer { rig.cleanup() }
        try await rig.app.test(.router) { client in
            let r = try await client.call(.get, "/apisix/admin/stream_routes", key: nil)
            #expect(r.status == .ok)
        }
    }

    @Test func allowAdminRefusesOtherAddresses() async throws {
        let closed = AdminRig.settings { $0.admin.allowAdmin = [CIDR("10.0.0.0/8")!] }
        let rig = try await AdminRig(settings: closed)
        defer { rig.cleanup() }
        try await rig.app.test(.live) { client in
            let r = try await client.call(.get, "/apisix/admin/stream_routes")
            #expect(r.status == .forbidden)
            #expect(r.json?["error_msg"]?.stringValue?.contains("not in allow_admin") == true)
        }
        let loopback = AdminRig.settings { $0.admin.allowAdmin = [CIDR("127.0.0.0/8")!] }
        let open = try await AdminRig(settings: loopback)
        defer { open.cleanup() }
        try await open.app.test(.live) { client in
            let r = try await client.call(.get, "/apisix/admin/stream_routes")
            #expect(r.status == .ok)
        }
    }

    @Test func aDocumentedKeyOffLoopbackIsRefused() {
        var admin = AdminConfig()
        admin.keys = [AdminKey(name: "admin", key: adminKey, role: .admin)]
        #expect(admin.publicKeyProblem == nil)
        #expect(admin.safetyWarning?.contains("documented example key") == true)
        admin.listenHost = "0.0.0.0"
        #expect(admin.publicKeyProblem?.contains("openssl rand -hex 16") == true)
        admin.keys = [AdminKey(name: "admin", key: "a-real-secret", role: .admin)]
        #expect(admin.publicKeyProblem == nil)
        admin.listenHost = "::1"
        admin.keys = [AdminKey(name: "admin", key: adminKey, role: .admin)]
        #expect(admin.publicKeyProblem == nil)
    }
}

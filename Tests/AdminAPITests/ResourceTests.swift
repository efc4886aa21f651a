import AdminAPI
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ProxyModel
import RouteStore
import Testing

@Suite("Admin API: stream routes, upstreams and ssls")
struct ResourceTests {
    @Test func putCreatesThenReplaces() async throws {
        let rig = try await AdminRig()
        defer { rig.cleanup() }
        try await rig.app.test(.router) { client in
            let first = try await client.call(.put, "/apisix/admin/stream_routes/1", body: seedRoundRobin)
            #expect(first.status == .created)
            #expect(first.json?["key"] == "/apisix/stream_routes/1")
            #expect(first.json?["value"]?["id"] == "1")
            #expect(first.json?["value"]?["create_time"]?.intValue != nil)
            // Defaults are not materialised.
            #expect(first.json?["value"]?["upstream"]?["retries"] == nil)
            let second = try await client.call(.put, "/apisix/admin/stream_routes/1", body: seedRoundRobin)
            #expect(second.status == .ok)
            let got = try await client.call(.get, "/apisix/admin/stream_routes/1")
            #expect(got.status == .ok)
            #expect(got.json?["key"] == "/apisix/stream_routes/1")
            let created = got.json?["createdIndex"]?.intValue ?? 0
            let modified = got.json?["modifiedIndex"]?.intValue ?? 0
            #expect(created > 0 && modified > created)
            // The id may come from the body instead of the URL.
            var body = try JSONParser.parse(seedRoundRobin)
            body["id"] = "from-body"
            let byBody = try await client.call(.put, "/apisix/admin/stream_routes", json: body)
            #expect(byBody.status == .created)
            #expect(byBody.json?["key"] == "/apisix/stream_routes/from-body")
            let mismatch = try await client.call(.put, "/apisix/admin/stream_routes/other", json: body)
            #expect(mismatch.status == .badRequest)
            #expect(mismatch.json?["error_msg"]?.stringValue?.contains("wrong stream route id") == true)
        }
    }

    @Test func postGeneratesTwentyDigitIds() async throws {
        let rig = try await AdminRig()
        defer { rig.cleanup() }
        try await rig.app.test(.router) { client in
            let r = try await client.call(.post, "/apisix/admin/stream_routes", body: seedRoundRobin)
            #expect(r.status == .created)
            let id = try #require(r.json?["value"]?["id"]?.stringValue)
            #expect(id.count == 20 && id.allSatisfy(\.isNumber))
            #expect(r.json?["key"]?.stringValue == "/apisix/stream_routes/\(id)")
            var body = try JSONParser.parse(seedRoundRobin)
            body["id"] = "x"
            let withID = try await client.call(.post, "/apisix/admin/stream_routes", json: body)
            #expect(withID.status == .badRequest)
        }
    }

    @Test func missingObjectsAre404() async throws {
        let rig = try await AdminRig()
        defer { rig.cleanup() }
        try await rig.app.test(.router) { client in
            for path in ["/apisix/admin/stream_routes/9", "/apisix/admin/upstreams/9", "/apisix/admin/ssls/9"] {
                let r = try await client.call(.get, path)
                #expect(r.status == .notFound)
                #expect(r.json == ["message": "Key not found"])
                #expect(try await client.call(.delete, path).status == .notFound)
            }
        }
    }

    @Test func deleteAnswersWithTheKey() async throws {
        let rig = try await AdminRig()
        defer { rig.cleanup() }
        try await rig.app.test(.router) { client in
            _ = try await client.call(.put, "/apisix/admin/stream_routes/1", body: seedRoundRobin)
            let r = try await client.call(.delete, "/apisix/admin/stream_routes/1")
            #expect(r.status == .ok)
            #expect(r.json == ["deleted": "1", "key": "/apisix/stream_routes/1"])
            #expect(try await client.call(.get, "/apisix/admin/stream_routes/1").status == .notFound)
        }
    }

    @Test func listsPageAndFilter() async throws {
        let rig = try await AdminRig()
        defer { rig.cleanup() }
        try await rig.app.test(.router) { client in
            for i in 1...25 {
                var body = try JSONParser.parse(seedRoundRobin)
                body["name"] = .string(i % 2 == 0 ? "even-\(i)" : "odd-\(i)")
                body["labels"] = ["parity": .string(i % 2 == 0 ? "even" : "odd")]
                _ = try await client.call(.put, "/apisix/admin/stream_routes/r\(i)", json: body)
            }
            let all = try await client.call(.get, "/apisix/admin/stream_routes")
            #expect(all.json?["total"] == 25)
            if case .array(let items) = all.json?["list"] ?? .null {
                #expect(items.count == 25)
                #expect(items.first?["key"] == "/apisix/stream_routes/r1")
                #expect(items.first?["createdIndex"]?.intValue != nil)
            }
            let page3 = try await client.call(.get, "/apisix/admin/stream_routes?page=3&page_size=10")
            #expect(page3.json?["total"] == 25)
            if case .array(let items) = page3.json?["list"] ?? .null { #expect(items.count == 5) }
            let named = try await client.call(.get, "/apisix/admin/stream_routes?name=even")
            #expect(named.json?["total"] == 12)
            let labelled = try await client.call(.get, "/apisix/admin/stream_routes?label=parity:odd")
            #expect(labelled.json?["total"] == 13)
            let badPage = try await client.call(.get, "/apisix/admin/stream_routes?page=0")
            #expect(badPage.status == .badRequest)
        }
    }

    @Test func patchMergesUpstreamsButNotStreamRoutes() async throws {
        let rig = try await AdminRig()
        defer { rig.cleanup() }
        try await rig.app.test(.router) { client in
            let up: JSONValue = ["type": "chash", "key": "mqtt_client_id", "nodes": ["127.0.0.1:1995": 1]]
            #expect(try await client.call(.put, "/apisix/admin/upstreams/1", json: up).status == .created)
            let merged = try await client.call(.patch, "/apisix/admin/upstreams/1",
                                               json: ["nodes": ["127.0.0.2:1995": 1], "desc": "two"])
            #expect(merged.status == .ok)
            #expect(merged.json?["value"]?["nodes"] == ["127.0.0.1:1995": 1, "127.0.0.2:1995": 1])
            #expect(merged.json?["value"]?["desc"] == "two")
            let sub = try await client.call(.patch, "/apisix/admin/upstreams/1/nodes", json: ["127.0.0.3:1995": 2])
            #expect(sub.status == .ok)
            #expect(sub.json?["value"]?["nodes"] == ["127.0.0.3:1995": 2])
            let invalid = try await client.call(.patch, "/apisix/admin/upstreams/1", json: ["type": "ewma"])
            #expect(invalid.status == .badRequest)
            #expect(try await client.call(.patch, "/apisix/admin/upstreams/404", json: ["desc": "x"]).status
                    == .notFound)
            _ = try await client.call(.put, "/apisix/admin/stream_routes/1", body: seedRoundRobin)
            let route = try await client.call(.patch, "/apisix/admin/stream_routes/1", json: ["desc": "x"])
            #expect(route.status == .methodNotAllowed)
        }
    }

    @Test func referencedUpstreamsNeedForce() async throws {
        let rig = try await AdminRig()
        defer { rig.cleanup() }
        try await rig.app.test(.router) { client in
            _ = try await client.call(.put, "/apisix/admin/upstreams/1",
                                      json: ["type": "chash", "key": "mqtt_client_id", "nodes": ["127.0.0.1:1995": 1]])
            let route: JSONValue = ["plugins": ["mqtt-proxy": ["protocol_level": 5]], "upstream_id": "1"]
            #expect(try await client.call(.put, "/apisix/admin/stream_routes/7", json: route).status == .created)
            let refused = try await client.call(.delete, "/apisix/admin/upstreams/1")
            #expect(refused.status == .badRequest)
            #expect(refused.json?["error_msg"]
                    == "can not delete this upstream, stream route [7] is still using it now")
            #expect(try await client.call(.delete, "/apisix/admin/upstreams/1?force=true").status == .ok)
            let dangling: JSONValue = ["plugins": ["mqtt-proxy": ["protocol_level": 5]], "upstream_id": "nope"]
            let bad = try await client.call(.put, "/apisix/admin/stream_routes/8", json: dangling)
            #expect(bad.status == .badRequest)
            #expect(bad.json?["error_msg"]?.stringValue?.contains("upstream id [nope]") == true)
        }
    }

    @Test func badBodiesAre400NamingTheField() async throws {
        let rig = try await AdminRig()
        defer { rig.cleanup() }
        try await rig.app.test(.router) { client in
            let cases: [(String, String)] = [
                (#"{"remote_addr": ":/8", "upstream": {"nodes": {"127.0.0.1:1": 1}}}"#, "invalid remote_addr: :/8"),
                (#"{"plugins": {"mqttt-proxy": {}}, "upstream": {"nodes": {"127.0.0.1:1": 1}}}"#,
                 "unknown plugin [mqttt-proxy]"),
                (#"{"upstream": {"type": "chash", "nodes": {"127.0.0.1:1": 1}}}"#, "missing key"),
                (#"{"upstream": {"nodes": {"127.0.0.1:1": 1}}, "foo": 1}"#, "additional properties forbidden, found foo"),
                (#"{"upstream": "#, "invalid request body: invalid JSON"),
                ("", "invalid request body: empty"),
                ("[1]", "expected a JSON object"),
            ]
            for (body, message) in cases {
                let r = try await client.call(.put, "/apisix/admin/stream_routes/1", body: body)
                #expect(r.status == .badRequest, "\(body)")
                #expect(r.json?["error_msg"]?.stringValue?.contains(message) == true, "got \(r.text)")
            }
            let big = "{\"desc\": \"" + String(repeating: "x", count: 5000) + "\"}"
            let tooLarge = try await client.call(.put, "/apisix/admin/stream_routes/1", body: big)
            #expect(tooLarge.status == .contentTooLarge)
        }
    }

    @Test func streamRoutesNeedStreamMode() async throws {
        let httpOnly = AdminRig.settings { $0.proxyMode = .http }
        let rig = try await AdminRig(settings: httpOnly)
        defer { rig.cleanup() }
        try await rig.app.test(.router) { client in
            let r = try await client.call(.put, "/apisix/admin/stream_routes/1", body: seedRoundRobin)
            #expect(r.status == .badRequest)
            #expect(r.json == ["error_msg": "stream mode is disabled, can not add stream routes"])
        }
    }

    @Test func fiftyParallelWritersAllLand() async throws {
        let rig = try await AdminRig()
        defer { rig.cleanup() }
        try await rig.app.test(.router) { client in
            try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for i in 0..<50 {
                    group.addTask { try await client.call(.put, "/apisix/admin/stream_routes/w\(i)", body: seedRoundRobin).status }
                }
                for try await status in group { #expect(status == .created) }
            }
            let list = try await client.call(.get, "/apisix/admin/stream_routes")
            #expect(list.json?["total"] == 50)
        }
        let reread = FileStore(path: rig.directory + "/apisix.yaml")
        try await reread.load()
        #expect(await reread.snapshot().resources.streamRoutes.count == 50)
    }
}

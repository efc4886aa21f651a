import AdminAPI
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOPosix
import ProxyModel
import ProxyTestSupport
import Testing

/// What an attached console reads: `/v1/summary`, connections by id, a disconnect by id, the stream's connection ids,
/// and a drain's dry run.
@Suite("Admin API: what followers read (summary, ids, disconnect, stream ids, drain dry run)")
struct FollowerRoutesTests {
    @Test func theSummaryNamesTheInstanceTheKeysRoleAndTheStoreRevisionWithoutConnections() async throws {
        try await withEventLoopGroup { group in
            let live = try await LiveStatusTests().start(group: group, count: 3)
            let settings = AdminRig.settings { $0.instanceID = "instance-a" }
            let rig = try await AdminRig(settings: settings, engine: live.proxy.engine, metrics: live.metrics)
            defer { rig.cleanup() }
            try await rig.app.test(.router) { client in
                let admin = try #require(try await client.call(.get, "/v1/summary").json)
                #expect(admin["instance"]?["id"] == "instance-a")
                #expect(admin["instance"]?["role"] == "admin")
                #expect(admin["relayed"] == 3)
                #expect(admin["open_connections"] == 3)
                #expect(admin["connections"] == nil)
                #expect(admin["routes"]?.arrayValue?.first?["route_id"] == "1")
                #expect(admin["health"]?.arrayValue?.count == 2)
                #expect(admin["store_revision"]?.intValue != nil)
                let viewer = try #require(try await client.call(.get, "/v1/summary", key: viewerKey).json)
                #expect(viewer["instance"]?["role"] == "viewer")
                let store = try #require(try await client.call(.get, "/v1/store").json)
                #expect(store["revision"]?.intValue != nil)
            }
            await LiveStatusTests().stop(live)
        }
    }

    @Test func connectionsAreListedByIdOrAfterAnIdAndClosedById() async throws {
        try await withEventLoopGroup { group in
            let live = try await LiveStatusTests().start(group: group, count: 3)
            let rig = try await AdminRig(engine: live.proxy.engine, metrics: live.metrics)
            defer { rig.cleanup() }
            let ids = live.proxy.engine.snapshot().connections.map(\.id).sorted()
            try await rig.app.test(.router) { client in
                let two = try await client.call(.get, "/v1/connections?ids=\(ids[0]),\(ids[2])")
                #expect(two.json?["connections"]?.arrayValue?.compactMap { $0["id"]?.intValue } == [ids[0], ids[2]].map { Int($0) })
                let after = try await client.call(.get, "/v1/connections?after_id=\(ids[0])")
                #expect(after.json?["total"] == 2)
                let bad = try await client.call(.get, "/v1/connections?ids=1,x")
                #expect(bad.status == .badRequest)
                #expect(bad.json?["error_msg"]?.stringValue?.contains("ids") == true)
                let badAfter = try await client.call(.get, "/v1/connections?after_id=-3")
                #expect(badAfter.json?["error_msg"]?.stringValue?.contains("after_id") == true)

                let viewer = try await client.call(.delete, "/v1/connections/\(ids[1])", key: viewerKey)
                #expect(viewer.status == .unauthorized)
                let closed = try await client.call(.delete, "/v1/connections/\(ids[1])")
                #expect(closed.status == .ok, "\(closed.text)")
                #expect(closed.json?["disconnected"] == .int(Int(ids[1])))
                let again = try await client.call(.delete, "/v1/connections/999999")
                #expect(again.status == .notFound)
                #expect(again.json?["error_msg"]?.stringValue?.contains("999999") == true)
                let notAnID = try await client.call(.delete, "/v1/connections/abc")
                #expect(notAnID.status == .badRequest)
            }
            #expect(await live.clients[1].waitForClose(timeout: 5))
            await LiveStatusTests().stop(live)
        }
    }

    @Test func theStreamCarriesTheIdsOfConnectionsOpenedAndClosed() async throws {
        try await withEventLoopGroup { group in
            let live = try await LiveStatusTests().start(group: group, count: 1)
            let rig = try await AdminRig(engine: live.proxy.engine, metrics: live.metrics)
            defer { rig.cleanup() }
            let first = try #require(live.proxy.engine.snapshot().connections.first?.id)
            try await rig.app.test(.router) { client in
                // Changes more than the stream's half second apart: at least two change messages after hello.
                let churn = Task {
                    try await Task.sleep(nanoseconds: 300_000_000)
                    await live.clients[0].close()
                    var opened: [ProxyTestSupport.TestClient] = []
                    for (id, pause) in [("late-1", 0), ("late-2", 1_200_000_000)] as [(String, UInt64)] {
                        try await Task.sleep(nanoseconds: pause)
                        let c = try await live.proxy.client()
                        try await c.send(ConnectBytes.make(clientID: id))
                        _ = await c.waitForBytes(11)
                        opened.append(c)
                    }
                    return opened
                }
                let r = try await client.call(.get, "/v1/stream?connections=ids&max_messages=3")
                let late = try await churn.value
                defer { Task { for c in late { await c.close() } } }
                let changes = StreamTests.messages(r.text).filter { $0.event == "change" }.map(\.data)
                let opened = changes.flatMap { $0["opened"]?.arrayValue ?? [] }.compactMap(\.intValue)
                let closed = changes.flatMap { $0["closed"]?.arrayValue ?? [] }.compactMap(\.intValue)
                #expect(closed.contains(Int(first)), "\(r.text)")
                let lateID = live.proxy.engine.snapshot().connections.first { $0.clientID == "late-1" }?.id
                #expect(lateID.map { opened.contains(Int($0)) } == true, "\(r.text)")
                let events = changes.flatMap { $0["events"]?.arrayValue ?? [] }
                #expect(events.contains { $0["kind"] == "connected" && $0["connection_id"] == lateID.map { .int(Int($0)) } })
                let bad = try await client.call(.get, "/v1/stream?connections=all")
                #expect(bad.status == .badRequest)
                #expect(bad.json?["error_msg"]?.stringValue?.contains("connections") == true)
            }
            await LiveStatusTests().stop(live)
        }
    }

    @Test func aDrainDryRunSaysWhereTheClientsWouldGoAndDrainsNothing() async throws {
        try await withEventLoopGroup { group in
            let live = try await LiveStatusTests().start(group: group, count: 8)
            let rig = try await AdminRig(engine: live.proxy.engine, metrics: live.metrics)
            defer { rig.cleanup() }
            let node = live.nodes[0].address
            let onNode = live.proxy.engine.snapshot().connections.filter { $0.node == node }.count
            try await rig.app.test(.router) { client in
                let r = try await client.call(.post, "/v1/nodes/\(node)/drain?dry_run=true", body: "")
                #expect(r.status == .ok, "\(r.text)")
                #expect(r.json?["dry_run"] == true)
                let moves = r.json?["rebalance"]?["moves"]?.arrayValue ?? []
                #expect(moves.count == onNode)
                #expect(moves.allSatisfy { $0["from"]?.stringValue == node && $0["connection_id"]?.intValue != nil })
                let nodes = try await client.call(.get, "/v1/nodes/\(node)")
                #expect(nodes.json?["node"]?["draining"] == false)
            }
            await LiveStatusTests().stop(live)
        }
    }
}

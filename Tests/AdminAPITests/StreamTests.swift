import AdminAPI
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOPosix
import ProxyModel
import ProxyTestSupport
import Testing

@Suite("Admin API: /v1/stream (server-sent events)")
struct StreamTests {
    /// The `event:` names and `data:` JSON of a stream's text.
    static func messages(_ text: String) -> [(event: String, data: JSONValue)] {
        text.components(separatedBy: "\n\n").compactMap { block in
            let lines = block.split(separator: "\n").map(String.init)
            guard let event = lines.first(where: { $0.hasPrefix("event: ") })?.dropFirst(7),
                  let data = lines.first(where: { $0.hasPrefix("data: ") })?.dropFirst(6),
                  let json = try? JSONParser.parse(String(data))
            else { return nil }
            return (String(event), json)
        }
    }

    @Test func helloThenAChangeWithTheNewEventsAfterAClientConnects() async throws {
        try await withEventLoopGroup { group in
            let live = try await LiveStatusTests().start(group: group, count: 2)
            let rig = try await AdminRig(engine: live.proxy.engine, metrics: live.metrics)
            defer { rig.cleanup() }
            let before = live.proxy.engine.snapshot()
            let lastEvent = before.events.last?.sequence ?? 0
            try await rig.app.test(.router) { client in
                // A client connects while the stream waits for its second message.
                let connector = Task {
                    try await Task.sleep(nanoseconds: 300_000_000)
                    let c = try await live.proxy.client()
                    try await c.send(ConnectBytes.make(clientID: "streamed-1"))
                    _ = await c.waitForBytes(11)
                    return c
                }
                let r = try await client.call(.get, "/v1/stream?max_messages=2")
                let late = try await connector.value
                defer { Task { await late.close() } }
                #expect(r.status == .ok)
                let messages = Self.messages(r.text)
                #expect(messages.map(\.event) == ["hello", "change"], "\(r.text)")
                #expect(messages.first?.data["version"] == .int(before.version))
                #expect(messages.first?.data["next"] == .int(lastEvent))
                let change = try #require(messages.last?.data)
                #expect((change["version"]?.intValue ?? 0) > before.version)
                #expect(change["open_connections"] == 3)
                let events: [JSONValue] = change["events"]?.arrayValue ?? []
                #expect(events.contains { $0["client_id"] == "streamed-1" }, "\(r.text)")
                #expect(events.allSatisfy { ($0["sequence"]?.intValue ?? 0) > lastEvent })
                #expect(change["events_dropped"] == 0)
            }
            await LiveStatusTests().stop(live)
        }
    }

    @Test func badParametersAreRefusedWithTheField() async throws {
        try await withEventLoopGroup { group in
            let live = try await LiveStatusTests().start(group: group, count: 0)
            let rig = try await AdminRig(engine: live.proxy.engine, metrics: live.metrics)
            defer { rig.cleanup() }
            try await rig.app.test(.router) { client in
                let since = try await client.call(.get, "/v1/stream?since=-1")
                #expect(since.status == .badRequest)
                #expect(since.json?["error_msg"]?.stringValue?.contains("since") == true)
                let limit = try await client.call(.get, "/v1/stream?max_messages=0")
                #expect(limit.status == .badRequest)
                #expect(limit.json?["error_msg"]?.stringValue?.contains("max_messages") == true)
                let noKey = try await client.call(.get, "/v1/stream?max_messages=1", key: nil)
                #expect(noKey.status == .unauthorized)
                let events = try await client.call(.get, "/v1/stream?events=501")
                #expect(events.status == .badRequest)
                #expect(events.json?["error_msg"]?.stringValue?.contains("events") == true)
                let one = try await client.call(.get, "/v1/stream?max_messages=1")
                #expect(Self.messages(one.text).map(\.event) == ["hello"])
            }
            await LiveStatusTests().stop(live)
        }
    }
}

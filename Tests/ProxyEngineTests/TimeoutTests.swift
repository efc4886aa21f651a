import Foundation
import NIOPosix
import ProxyEngine
import ProxyModel
import ProxyTestSupport
import Testing
import ProxyControl

@Suite("Connect timeout and retry budget")
struct TimeoutTests {
    func route(_ nodes: [String], type: String = "roundrobin", upstream: [String: JSONValue]) -> JSONValue {
        var up: JSONValue = [
            "type": .string(type),
            "nodes": .array(nodes.map { a in
                let endpoint = HostPort(a)!
                let (h, p) = (endpoint.host, endpoint.port)
                return ["host": .string(h), "port": .int(p), "weight": 1]
            }),
        ]
        for (k, v) in upstream { up[k] = v }
        return ["plugins": ["mqtt-proxy": ["protocol_level": 4]], "upstream": up]
    }

    @Test func aSilentNodeTimesOutAndTheNextOneIsTried() async throws {
        try await withEventLoopGroup { group in
            let silent = try BlackholePort()
            defer { silent.release() }
            let live = try await RecordingUpstream.start(group: group)
            let r = route([silent.address, live.address],
                          upstream: ["timeout": ["connect": 0.3, "send": 10, "read": 10]])
            let proxy = try await ProxyHarness.start(resources: .with(routes: [("1", r)]), group: group)
            let client = try await proxy.client()
            let start = Date()
            try await client.send(ConnectBytes.make(clientID: "patient"))
            #expect(await client.waitForBytes(11).count == 11)
            let waited = Date().timeIntervalSince(start)
            #expect(waited >= 0.25 && waited < 3, "waited \(waited) s")
            #expect(live.clientIDs == ["patient"])
            #expect(proxy.engine.snapshot().connections.first?.attempts == 2)
            await client.close()
            await proxy.stop()
            await live.stop()
        }
    }

    @Test func theRetryBudgetStopsFurtherAttempts() async throws {
        try await withEventLoopGroup { group in
            let silent = [try BlackholePort(host: "127.0.0.97"), try BlackholePort(host: "127.0.0.96"),
                          try BlackholePort(host: "127.0.0.95")]
            defer { silent.forEach { $0.release() } }
            let r = route(silent.map(\.address), upstream: [
                "timeout": ["connect": 0.3, "send": 10, "read": 10], "retries": 2, "retry_timeout": 0.2,
            ])
            let proxy = try await ProxyHarness.start(resources: .with(routes: [("1", r)]), group: group)
            let client = try await proxy.client()
            try await client.send(ConnectBytes.make(clientID: "budget"))
            #expect(await client.waitForClose())
            // One 0.3 s attempt spends the 0.2 s budget: no second attempt (told by the event, not a clock).
            let snap = proxy.engine.snapshot()
            #expect(snap.routes.first?.connectFailures == 1)
            #expect(snap.routes.first?.rejected[RejectReason.upstreamUnavailable] == 1)
            #expect(snap.events.contains {
                $0.message.contains("retry_timeout") && $0.message.contains("after 1 attempt(s)")
            })
            await proxy.stop()
        }
    }
}

import ProxyControl
import Testing
@testable import RemoteControl

@Suite("Merging instances' pictures")
struct FleetMergeTests {
    static func connection(_ id: UInt64, _ client: String, node: String, route: String = "1") -> ConnectionInfo {
        ConnectionInfo(id: id, clientID: client, username: nil, protocolLevel: 4, keepAlive: 60, cleanStart: true,
                       remoteAddress: "127.0.0.1", remotePort: 40000 + Int(id), localAddress: "127.0.0.1",
                       localPort: 1883, routeID: route, node: node, hashKey: client, ringPoint: nil, attempts: 1,
                       startedAt: 100, bytesIn: 10, bytesOut: 4)
    }

    static func picture(_ connections: [ConnectionInfo], health: [NodeHealth] = [], routeTotal: Int) -> EngineSnapshot {
        var s = EngineSnapshot(version: 1, takenAt: 200, startedAt: 50, listeners: ["127.0.0.1:1883"],
                               connections: connections,
                               routes: [RouteStats(routeID: "1", active: connections.count, total: routeTotal,
                                                   rejected: [.malformed: 1], bytesIn: 10, bytesOut: 4, connectFailures: 0)],
                               nodes: [NodeStats(node: "10.0.0.1:1883", active: 1, total: routeTotal, bytesIn: 1, bytesOut: 1,
                                                 connectFailures: 0, connacks: [0: 2, 5: 1])],
                               events: [], pending: 1, totalAccepted: routeTotal, totalRejected: 1,
                               rejectedByReason: [.malformed: 1])
        s.health = health
        return s
    }

    @Test func connectionsAreTaggedCountersSummedAndHealthCombined() {
        let a = Self.picture([Self.connection(7, "sensor-1", node: "10.0.0.1:1883")],
                             health: [NodeHealth(node: "10.0.0.1:1883", checked: true, healthy: true, state: "healthy",
                                                 active: 1)], routeTotal: 5)
        let b = Self.picture([Self.connection(7, "sensor-2", node: "10.0.0.2:1883")],
                             health: [NodeHealth(node: "10.0.0.1:1883", checked: true, healthy: false, state: "unhealthy",
                                                 reason: "no CONNACK within 1.0 s", active: 0)], routeTotal: 3)
        let merged = FleetMerge.merge([
            .init(status: InstanceStatus(name: "a", url: "http://a", reachable: true), snapshot: a),
            .init(status: InstanceStatus(name: "b", url: "http://b", reachable: false), snapshot: b),
        ], version: 9, startedAt: 0)
        #expect(merged.connections.map(\.instance) == ["a", "b"])
        #expect(merged.connections.map(\.id) == [7, (1 << 48) | 7])
        #expect(merged.routes.count == 1)
        #expect(merged.routes[0].total == 8)
        #expect(merged.routes[0].rejected[.malformed] == 2)
        #expect(merged.nodes[0].connacks == [0: 4, 5: 2])
        #expect(merged.totalAccepted == 8)
        #expect(merged.pending == 2)
        #expect(merged.health.count == 1)
        #expect(merged.health[0].healthy == false)
        #expect(merged.health[0].reason == "b: no CONNACK within 1.0 s")
        #expect(merged.listeners == ["a 127.0.0.1:1883", "b 127.0.0.1:1883"])
        #expect(merged.instances.map(\.reachable) == [true, false])
        #expect(merged.isAttached)
    }

    @Test func anInstanceThatNeverAnsweredAddsOnlyItsStatus() {
        let merged = FleetMerge.merge([
            .init(status: InstanceStatus(name: "http://x", url: "http://x", reachable: false, lastError: "refused"),
                  snapshot: nil),
        ], version: 1, startedAt: 42)
        #expect(merged.connections.isEmpty)
        #expect(merged.startedAt == 42)
        #expect(merged.instances.first?.lastError == "refused")
    }
}

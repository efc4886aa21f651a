@testable import Console
import Foundation
@testable import ProxyEngine
import ProxyModel
import ProxyTestSupport
import ProxyControl

/// A fixed picture of a running proxy for rendering tests: two routes, three nodes, a dozen clients.
enum Fixture {
    static let now: Double = 1_800_000_000

    static func connection(_ id: UInt64, _ client: String?, node: String, route: String = "1", level: Int = 4,
                           age: Double = 65) -> ConnectionInfo
    {
        ConnectionInfo(id: id, clientID: client, username: client == nil ? nil : "user-\(id)", protocolLevel: level,
                       keepAlive: 60, cleanStart: true, remoteAddress: "10.1.0.\(id)", remotePort: 50000 + Int(id),
                       localAddress: "127.0.0.1", localPort: 9100, routeID: route, node: node,
                       hashKey: client ?? "10.1.0.\(id)", ringPoint: Int(id) * 7, attempts: id == 3 ? 2 : 1,
                       startedAt: now - age, bytesIn: Int(id) * 1500, bytesOut: Int(id) * 900)
    }

    static func data(connections: Int = 12) -> ConsoleData {
        var conns: [ConnectionInfo] = []
        for i in 1...max(1, connections) where connections > 0 {
            let node = i % 3 == 0 ? "127.0.0.2:1883" : "127.0.0.1:1883"
            conns.append(connection(UInt64(i), i == 5 ? nil : String(format: "sensor-%04d", i), node: node))
        }
        let events = [
            EngineEvent(sequence: 1, time: now - 30, kind: .reload, routeID: nil, clientID: nil, remote: nil, node: nil,
                        message: "store file reloaded (version 2)"),
            EngineEvent(sequence: 2, time: now - 20, kind: .connected, routeID: "1", clientID: "sensor-0001",
                        remote: "10.1.0.1", node: "127.0.0.1:1883", message: "proxied to 127.0.0.1:1883"),
            EngineEvent(sequence: 3, time: now - 10, kind: .rejected, routeID: "1", clientID: nil, remote: "10.9.9.9",
                        node: nil, message: "protocol_mismatch: CONNECT has protocol MQTT/5, route expects MQTT/4"),
        ]
        let engine = EngineSnapshot(
            version: 7, takenAt: now, startedAt: now - 3725, listeners: ["0.0.0.0:9100"], connections: conns,
            routes: [RouteStats(routeID: "1", active: conns.count, total: 40, rejected: [.protocolMismatch: 1],
                                bytesIn: 123_456, bytesOut: 98_765, connectFailures: 0)],
            nodes: [], events: events, pending: 0, totalAccepted: 41, totalRejected: 1)
        let resources = try! ProxyResources.with(routes: [
            ("1", ["desc": "sensors", "server_port": 9100,
                   "plugins": ["mqtt-proxy": ["protocol_name": "MQTT", "protocol_level": 4]],
                   "upstream": ["type": "chash", "key": "mqtt_client_id",
                                "nodes": ["127.0.0.1:1883": 1, "127.0.0.2:1883": 1]]]),
            ("plain", ["upstream": ["nodes": ["127.0.0.3:1883": 1]]]),
        ])
        return ConsoleData(engine: engine, resources: resources, storeRevision: 3, now: now,
                           adminAddress: "127.0.0.1:9180", connectRates: ["1": [0, 1, 2, 4, 8, 4, 2, 1]])
    }

    static func render(_ c: ConsoleController, _ d: ConsoleData = data(), width: Int = 80, height: Int = 24)
        -> [String]
    {
        c.render(data: d, width: width, height: height).lines
    }
}

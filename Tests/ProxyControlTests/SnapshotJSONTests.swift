import ProxyControl
import ProxyModel
import RouteStore
import Testing

/// The admin API writes pictures with `SnapshotJSON` and an attached console reads them back: every field survives.
@Suite("Snapshot JSON: written and read back")
struct SnapshotJSONTests {
    static let tls = TLSDetails(version: "TLSv1.3", sni: "mqtt.example.com", sslID: "s1", clientCN: "device-7",
                                clientSANs: ["device-7.example.com"], clientSubject: "CN=device-7,O=Fleet")

    @Test func aConnectionSurvivesTheRoundTrip() throws {
        var c = ConnectionInfo(id: 42, clientID: "truck-eu-17", username: "fleet", protocolLevel: 5, keepAlive: 30,
                               cleanStart: false, remoteAddress: "10.1.2.3", remotePort: 50123, localAddress: "10.0.0.1",
                               localPort: 1883, routeID: "r1", node: "127.0.1.2:1883", hashKey: "truck-eu-17",
                               ringPoint: 311, attempts: 2, startedAt: 1_796_000_000.25, bytesIn: 1234, bytesOut: 99,
                               tls: Self.tls)
        c.idleLimit = 45
        c.via = "10.9.9.9:41000"
        c.brokerConnack = 0
        let back = try #require(SnapshotJSON.decodeConnection(SnapshotJSON.connection(c, now: c.startedAt + 5)))
        #expect(back == c)
        var bare = c
        (bare.clientID, bare.username, bare.protocolLevel, bare.tls, bare.hashKey, bare.via) = (nil, nil, nil, nil, nil, nil)
        #expect(SnapshotJSON.decodeConnection(SnapshotJSON.connection(bare, now: 0)) == bare)
        #expect(SnapshotJSON.decodeConnection(["id": 1]) == nil, "a connection without its route and node is unreadable")
    }

    @Test func countersHealthEventsStoreAndPreviewsSurviveTheRoundTrip() throws {
        let route = RouteStats(routeID: "1", active: 3, total: 10, rejected: [.malformed: 2, .noNode: 1], bytesIn: 5,
                               bytesOut: 6, connectFailures: 1, disconnects: [.clientClosed: 7])
        #expect(SnapshotJSON.decodeRoute(SnapshotJSON.route(route)) == route)
        let node = NodeStats(node: "127.0.1.1:1883", active: 2, total: 9, bytesIn: 1, bytesOut: 2, connectFailures: 3,
                             failing: true, disconnects: [.brokerReset: 1], connacks: [0: 8, 0x87: 1])
        #expect(SnapshotJSON.decodeNode(SnapshotJSON.node(node)) == node)
        let health = NodeHealth(node: "127.0.1.1:1883", checked: true, healthy: false, state: "unhealthy",
                                reason: "no CONNACK within 1.0 s", since: 1_796_000_000, checkType: "mqtt",
                                drain: DrainInfo(evictPerSecond: 5, serverReference: "mqtt-2:1883", since: 1_796_000_100,
                                                 evicted: 4),
                                active: 2, upstreams: ["route 1"])
        #expect(SnapshotJSON.decodeHealth(SnapshotJSON.health(health)) == health)
        let event = EngineEvent(sequence: 12, time: 1_796_000_000.5, kind: .brokerRefused, routeID: "1",
                                clientID: "c", remote: "10.1.1.1", node: "127.0.1.1:1883", message: "not authorized",
                                connectionID: 77)
        #expect(SnapshotJSON.decodeEvent(SnapshotJSON.event(event)) == event)
        let store = StoreStatus(provider: "etcd", location: "etcd http://127.0.0.1:2379 /apisix", reachable: false,
                                since: 1_796_000_000, lastError: "connection refused", sourceRevision: 41, fromCache: true)
        #expect(SnapshotJSON.decodeStore(SnapshotJSON.store(store)) == store)
        let preview = RebalancePreview(considered: 4, moves: [
            .init(connectionID: 9, clientID: "a", hashKey: "a", routeID: "1", from: "n1", to: "n2"),
            .init(connectionID: 10, clientID: nil, hashKey: "10.0.0.9", routeID: "1", from: "n1", to: nil),
        ])
        #expect(SnapshotJSON.decodeRebalance(SnapshotJSON.rebalance(preview)) == preview)
    }

    @Test func aSummaryCarriesEverythingButConnectionsAndEvents() throws {
        var snap = EngineSnapshot(version: 7, takenAt: 100, startedAt: 50, listeners: ["0.0.0.0:1883", "0.0.0.0:8883 tls"],
                                  connections: [], routes: [RouteStats(routeID: "1", active: 0, total: 1, rejected: [:],
                                                                       bytesIn: 0, bytesOut: 0, connectFailures: 0)],
                                  nodes: [], events: [], pending: 2, totalAccepted: 30, totalRejected: 4,
                                  rejectedByReason: [.overLimit: 4], tlsHandshakes: 3, prereadBytes: 99, drainTimeout: 12)
        snap.health = [NodeHealth(node: "n", checked: false, healthy: true, state: "unchecked")]
        snap.connectionLimit = 9000
        snap.descriptorLimit = 20000
        snap.store = StoreStatus(provider: "file", location: "conf/apisix.yaml", reachable: true, since: 1)
        let back = try #require(SnapshotJSON.decodeSummary(SnapshotJSON.summary(snap)))
        #expect(back.version == 7 && back.takenAt == 100 && back.startedAt == 50)
        #expect(back.listeners == snap.listeners)
        #expect(back.routes == snap.routes)
        #expect(back.health == snap.health)
        #expect(back.pending == 2 && back.totalAccepted == 30 && back.totalRejected == 4)
        #expect(back.rejectedByReason == [.overLimit: 4])
        #expect(back.tlsHandshakes == 3 && back.prereadBytes == 99 && back.drainTimeout == 12)
        #expect(back.connectionLimit == 9000 && back.descriptorLimit == 20000)
        #expect(back.store == snap.store)
    }
}

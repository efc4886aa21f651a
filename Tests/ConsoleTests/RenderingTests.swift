@testable import Console
@testable import ProxyEngine
import ProxyModel
import ProxyTestSupport
import Testing
import ProxyControl

@Suite("Console rendering on an off-screen grid")
struct RenderingTests {
    @Test(arguments: [(80, 24), (160, 48)])
    func connectionsView(width: Int, height: Int) {
        let lines = Fixture.render(ConsoleController(), width: width, height: height)
        #expect(lines.count == height)
        #expect(lines.allSatisfy { CellGrid.displayWidth($0) <= width })
        #expect(lines[0].contains("mqtt-proxy") && lines[0].contains("conns 12") && lines[0].contains("up 1h02m"))
        #expect(lines[1].contains("1 Connections") && lines[1].contains("4 Log"))
        #expect(lines[2].contains("CLIENT ID▼") && lines[2].contains("NODE"))
        #expect(lines.contains { $0.contains("sensor-0001") && $0.contains("127.0.0.1:1883") })
        #expect(lines.contains { $0.contains(width >= 160 ? "<empty> 10.1.0.5" : "<empty>") })
        #expect(lines[height - 1].contains("? help") && lines[height - 1].contains("q quit"))
        if width >= 160 {
            #expect(lines[2].contains("REMOTE") && lines[2].contains("OUT") && lines[2].contains("TLS"))
            #expect(lines.contains { $0.contains("10.1.0.1:50001") && $0.contains("3.1.1") })
        } else {
            // Narrow terminals drop the least important columns rather than overlap them.
            #expect(!lines[2].contains("TLS"))
        }
    }

    @Test func longClientIDsAreTruncatedWithAnEllipsis() {
        var d = Fixture.data(connections: 1)
        d.engine.connections = [Fixture.connection(1, String(repeating: "very-long-client-id-", count: 5),
                                                   node: "127.0.0.1:1883")]
        let lines = Fixture.render(ConsoleController(), d)
        #expect(lines.contains { $0.contains("very-long-cli") && $0.contains("…") })
    }

    @Test(arguments: [(80, 24), (160, 48)])
    func mappingsView(width: Int, height: Int) {
        let c = ConsoleController()
        _ = c.handle(.char("2"), data: Fixture.data())
        let lines = Fixture.render(c, width: width, height: height)
        #expect(lines.contains { $0.contains("route 1 · chash on mqtt_client_id · 12 client(s)") })
        let first = lines.first { $0.contains("127.0.0.1:1883") && $0.contains("w1") }
        #expect(first?.contains("8") == true && first?.contains("67% (exp 50%)") == true)
        #expect(first?.contains("█") == true)
        #expect(lines.contains { $0.contains("clients on 127.0.0.1:1883 (route 1): 8") })
        #expect(lines.contains { $0.contains("sensor-0001") })
    }

    @Test(arguments: [(80, 24), (160, 48)])
    func routesView(width: Int, height: Int) {
        let c = ConsoleController()
        _ = c.handle(.char("3"), data: Fixture.data())
        let lines = Fixture.render(c, width: width, height: height)
        #expect(lines[2].contains("ID") && lines[2].contains("NODES") && lines[2].contains("ACT"))
        let row = lines.first { $0.hasPrefix("1 ") }
        // Both nodes of route 1 in full when they fit, else a count and health summary ahead of those that fit.
        if width >= 160 {
            #expect(row?.contains("127.0.0.1:1883×1 127.0.0.2:1883×1") == true, "\(row ?? "")")
        } else {
            #expect(row?.contains("2 nodes 2●") == true, "\(row ?? "")")
        }
        #expect(lines.contains { $0.contains("plain") })
        #expect(lines.contains { $0.contains("rejected on 1: protocol_mismatch 1") })
        #expect(lines.contains { $0.contains("route 1: 40 connections, bytes in 120K out 96K") })
        if width >= 160 {
            #expect(lines.contains { $0.contains("MQTT/4") && $0.contains("chash mqtt_client_id") && $0.contains(":9100") })
            #expect(lines.contains { $0.contains("▁") && $0.contains("█") })
        }
    }

    @Test(arguments: [(80, 24), (160, 48)])
    func logView(width: Int, height: Int) {
        let c = ConsoleController()
        _ = c.handle(.char("4"), data: Fixture.data())
        let lines = Fixture.render(c, width: width, height: height)
        #expect(lines.contains { $0.contains("reload") && $0.contains("store file reloaded") })
        #expect(lines.contains { $0.contains("rejected") && $0.contains("protocol_mismatch") })
        // Newest at the bottom.
        let reload = lines.firstIndex { $0.contains("store file reloaded") } ?? 99
        let rejected = lines.firstIndex { $0.contains("protocol_mismatch") } ?? -1
        #expect(reload < rejected)
        // The node is named once, and the line's end (the node) is not cut at 80 columns.
        let proxied = lines.first { $0.contains("proxied to") } ?? ""
        #expect(proxied.components(separatedBy: "127.0.0.1:1883").count == 2, "\(proxied)")
    }

    @Test func logViewNamesTheNodeOfEventsWhoseMessageDoesNot() {
        var data = Fixture.data()
        data.engine.events.append(EngineEvent(sequence: 4, time: Fixture.now - 5, kind: .upstreamFailure, routeID: "1",
                                              clientID: "sensor-0002", remote: "10.1.0.2", node: "127.0.0.2:1883",
                                              message: "connect failed: connection refused"))
        let c = ConsoleController()
        _ = c.handle(.char("4"), data: data)
        let lines = Fixture.render(c, data, width: 120, height: 24)
        #expect(lines.contains { $0.contains("→ 127.0.0.2:1883: connect failed") })
    }

    @Test func helpIsGeneratedFromTheKeyTable() {
        let c = ConsoleController()
        _ = c.handle(.char("?"), data: Fixture.data())
        let lines = Fixture.render(c, width: 120, height: 40)
        for b in KeyTable.bindings where !b.demoOnly {
            #expect(lines.contains { $0.contains(b.help) }, "help lacks \(b.help)")
        }
        #expect(!lines.contains { $0.contains("demo:") }, "demo keys only in demo mode")
        let demo = ConsoleController(demo: true)
        _ = demo.handle(.char("?"), data: Fixture.data())
        let demoLines = Fixture.render(demo, width: 120, height: 48)
        for b in KeyTable.bindings {
            #expect(demoLines.contains { $0.contains(b.help) }, "demo help lacks \(b.help)")
        }
    }

    @Test func detailShowsConnectFields() {
        let c = ConsoleController()
        _ = c.handle(.enter, data: Fixture.data())
        let lines = Fixture.render(c, width: 100, height: 30)
        #expect(lines.contains { $0.contains("client id     sensor-0001") })
        #expect(lines.contains { $0.contains("keep-alive    60 s") })
        #expect(lines.contains { $0.contains("ring point    7") })
    }

    @Test func tinyTerminalsDoNotCrash() {
        for (w, h) in [(10, 3), (20, 6), (40, 10), (1, 1), (0, 0)] {
            let lines = Fixture.render(ConsoleController(), width: w, height: h)
            #expect(lines.count == h)
        }
    }

    @Test func wideCharactersTakeTwoColumns() {
        var grid = CellGrid(width: 10, height: 1)
        grid.put("端末abc", row: 0, column: 0)
        #expect(grid.lines[0] == "端末abc")
        #expect(CellGrid.displayWidth("端末abc") == 7)
        var clipped = CellGrid(width: 5, height: 1)
        clipped.put("abcdefgh", row: 0, column: 0)
        #expect(clipped.lines[0] == "abcd…")
    }

    @Test func tlsConnectionsShowVersionSNIAndClientCertificate() {
        var d = Fixture.data(connections: 2)
        d.engine.listeners = ["0.0.0.0:9100", "0.0.0.0:8883 tls"]
        d.engine.connections[0].tls = TLSDetails(version: "TLSv1.3", sni: "mqtt.example.com", sslID: "s1",
                                                 clientCN: "device-7", clientSANs: ["DNS:device-7.fleet"],
                                                 clientSubject: "CN=device-7,O=Fleet")
        let upstream: JSONValue = ["nodes": ["127.0.0.1:1883": 1]]
        let tlsPort: JSONValue = ["server_port": 8883, "upstream": upstream]
        let bySNI: JSONValue = ["sni": "*.fleet.example.com", "upstream": upstream]
        let plain: JSONValue = ["server_port": 9100, "upstream": upstream]
        d.resources = try! ProxyResources.with(routes: [("tls-port", tlsPort), ("by-sni", bySNI), ("plain", plain)])
        let wide = Fixture.render(ConsoleController(), d, width: 200, height: 60)
        #expect(wide.contains { $0.contains("sensor-0001") && $0.contains("1.3 mqtt.example.com cn=device-7") })
        #expect(wide.contains { $0.contains("sensor-0002") && $0.contains(" - ") })
        // The filter finds connections by their certificate's CN.
        let c = ConsoleController()
        _ = c.handle(.char("/"), data: d)
        for ch in "device-7" { _ = c.handle(.char(ch), data: d) }
        _ = c.handle(.enter, data: d)
        let filtered = Fixture.render(c, d, width: 200, height: 60)
        #expect(filtered.contains { $0.contains("sensor-0001") })
        #expect(!filtered.contains { $0.contains("sensor-0002") })
        // The detail box lists the TLS facts.
        let detail = ConsoleController()
        _ = detail.handle(.enter, data: d)
        let box = Fixture.render(detail, d, width: 100, height: 40)
        #expect(box.contains { $0.contains("TLSv1.3 · SNI mqtt.example.com · ssl s1") })
        #expect(box.contains { $0.contains("client cert   CN=device-7,O=Fleet") })
        // Routes on a TLS port or with an SNI carry a lock.
        let routes = ConsoleController()
        _ = routes.handle(.char("3"), data: d)
        let lines = Fixture.render(routes, d, width: 200, height: 60)
        #expect(lines.contains { $0.contains("🔒tls-port") && $0.contains(":8883") })
        #expect(lines.contains { $0.contains("🔒by-sni") && $0.contains("sni *.fleet") })
        #expect(lines.contains { $0.contains("plain") && !$0.contains("🔒plain") })
    }

    @Test func aNodeIsMarkedDownOnlyWhileItsLatestConnectFailed() {
        var d = Fixture.data()
        d.engine.nodes = [
            NodeStats(node: "127.0.0.1:1883", active: 8, total: 30, bytesIn: 0, bytesOut: 0, connectFailures: 12,
                      failing: false),
            NodeStats(node: "127.0.0.2:1883", active: 0, total: 9, bytesIn: 0, bytesOut: 0, connectFailures: 7,
                      failing: true),
        ]
        let c = ConsoleController()
        _ = c.handle(.char("2"), data: d)
        let lines = Fixture.render(c, d, width: 120, height: 30)
        #expect(lines.contains { $0.contains("127.0.0.1:1883") && $0.contains("●") && !$0.contains("✗") })
        #expect(lines.contains { $0.contains("127.0.0.2:1883") && $0.contains("✗7") })
    }
}

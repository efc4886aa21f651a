@testable import Console
import ProxyControl
import RouteStore
import Testing

/// The console attached to two instances: the instance bar, the instance column and filter, greyed rows of a lost
/// instance, per-instance splits, and the warning when instances place a client differently.
@Suite("Console attached to a fleet")
struct FleetViewTests {
    /// The fixture's clients spread over instances a and b (b lost 12 s ago); sensor-0001 also through b, on the other
    /// node, as a stale route on b would place it.
    static func fleet(bLost: Bool = true, disagree: Bool = true) -> ConsoleData {
        var data = Fixture.data()
        var conns = data.engine.connections
        for i in conns.indices { conns[i].instance = i % 2 == 0 ? "a" : "b" }
        if disagree {
            var twin = Fixture.connection(99, "sensor-0001", node: "127.0.0.2:1883")
            twin.instance = "b"
            conns.append(twin)
        }
        data.engine.connections = conns
        let etcd = StoreStatus(provider: "etcd", location: "etcd http://127.0.0.1:2379 /apisix", reachable: true,
                               since: Fixture.now - 100, sourceRevision: 14)
        let a = InstanceStatus(name: "a", url: "http://127.0.0.1:9180", reachable: true, lastSeen: Fixture.now, role: "admin",
                               store: etcd, storeRevision: 3,
                               routes: [RouteStats(routeID: "1", active: 6, total: 25, rejected: [:], bytesIn: 0,
                                                   bytesOut: 0, connectFailures: 0)],
                               openConnections: 6, bytesReceived: 48_000)
        let b = InstanceStatus(name: "b", url: "http://127.0.0.1:9181", reachable: !bLost, lastSeen: Fixture.now - 12,
                               lastError: bLost ? "connection refused" : nil, role: "admin", store: etcd, storeRevision: 3,
                               routes: [RouteStats(routeID: "1", active: 7, total: 15, rejected: [:], bytesIn: 0,
                                                   bytesOut: 0, connectFailures: 0)],
                               openConnections: 7, bytesReceived: 51_000)
        data.engine.instances = [a, b]
        data.adminAddress = nil
        return data
    }

    @Test func theInstanceBarAndColumnShowAndALostInstanceIsGreyed() {
        let c = ConsoleController()
        let data = Self.fleet()
        let grid = c.render(data: data, width: 80, height: 24)
        let lines = grid.lines
        #expect(lines[0].contains("attached to 2 instances (1 lost)"), "\(lines[0])")
        #expect(lines[1].contains("a ● etcd rev 14"), "\(lines[1])")
        #expect(lines[1].contains("b ✗ lost, last seen 12s ago"), "\(lines[1])")
        #expect(lines[2].contains("1 Connections"))
        #expect(lines[3].contains("INSTANCE"), "\(lines[3])")
        let bRow = try! #require(lines.firstIndex { $0.contains("sensor-0002") })
        #expect(lines[bRow].contains("b ✗"))
        #expect(grid.cells[bRow * grid.width].role == .dim, "a lost instance's rows are greyed")
        let aRow = try! #require(lines.firstIndex { $0.contains("sensor-0003") })
        #expect(grid.cells[aRow * grid.width].role != .dim)
        #expect(lines[23].contains("i instance") || !lines[23].contains("q quit"), "the footer offers the instance filter")
    }

    @Test func theInstanceFilterCyclesThroughTheInstances() {
        let c = ConsoleController()
        let data = Self.fleet(bLost: false)
        _ = c.handle(.char("i"), data: data)
        var lines = Fixture.render(c, data)
        #expect(lines[2].contains("instance: a"))
        #expect(!lines.contains { $0.contains("sensor-0002") })
        #expect(lines.contains { $0.contains("sensor-0003") })
        _ = c.handle(.char("i"), data: data)
        lines = Fixture.render(c, data)
        #expect(lines[2].contains("instance: b"))
        #expect(lines.contains { $0.contains("sensor-0002") })
        #expect(!lines.contains { $0.contains("sensor-0003") })
        _ = c.handle(.char("i"), data: data)
        lines = Fixture.render(c, data)
        #expect(!lines[2].contains("instance:"))
        #expect(lines.contains { $0.contains("sensor-0002") } && lines.contains { $0.contains("sensor-0003") })

        let single = ConsoleController()
        _ = single.handle(.char("i"), data: Fixture.data())
        #expect(Fixture.render(single).contains { $0.contains("not attached to several instances") })
    }

    @Test func clientsToNodesWarnsWhenInstancesPlaceAClientDifferentlyAndSplitsTheNode() {
        let c = ConsoleController()
        let data = Self.fleet(bLost: false)
        _ = c.handle(.char("2"), data: data)
        let lines = Fixture.render(c, data, width: 120, height: 30)
        let warning = try! #require(lines.first { $0.contains("⚠") }, "\(lines.joined(separator: "\n"))")
        #expect(warning.contains("1 client id(s) placed differently by instances"))
        #expect(warning.contains("sensor-0001: a → 127.0.0.1:1883, b → 127.0.0.2:1883"))
        #expect(lines.contains { $0.contains("per instance: a ") && $0.contains(" · b ") })
        #expect(lines.contains { $0.contains("route 1 · chash on mqtt_client_id · 13 client(s) (a 6 · b 7)") },
                "\(lines.joined(separator: "\n"))")

        let agreeing = Self.fleet(bLost: false, disagree: false)
        let calm = ConsoleController()
        _ = calm.handle(.char("2"), data: agreeing)
        #expect(!Fixture.render(calm, agreeing, width: 120, height: 30).contains { $0.contains("⚠") })
    }

    @Test func routesDifferingBetweenInstancesAreWarnedAbout() {
        var data = Self.fleet(bLost: false, disagree: false)
        data.engine.instances[1].store?.sourceRevision = 12
        let c = ConsoleController()
        _ = c.handle(.char("2"), data: data)
        #expect(Fixture.render(c, data, width: 120, height: 30).contains { $0.contains("⚠ routes differ: a rev 14, b rev 12") })
    }

    @Test func routesShowThePerInstanceSplitAndTheLogNamesTheInstance() {
        var data = Self.fleet(bLost: false)
        data.engine.events = data.engine.events.map { e in
            var e = e
            e.instance = "b"
            return e
        }
        let c = ConsoleController()
        _ = c.handle(.char("3"), data: data)
        #expect(Fixture.render(c, data, width: 120, height: 24).contains { $0.contains("per instance: a 6/25 · b 7/15") })
        _ = c.handle(.char("4"), data: data)
        #expect(Fixture.render(c, data).contains { $0.contains("[b] route 1 sensor-0001") })
    }

    @Test func quittingAnAttachedConsoleAsksNothingAndEndsNoConnection() {
        let c = ConsoleController()
        let commands = c.handle(.char("q"), data: Self.fleet())
        #expect(commands == [.quit])
    }

    @Test func eightyByTwentyFourAndTwoHundredBySixtyStayReadable() {
        for (w, h) in [(80, 24), (200, 60)] {
            for view in ["1", "2", "3", "4"] {
                let c = ConsoleController()
                let data = Self.fleet()
                _ = c.handle(.char(Character(view)), data: data)
                let lines = Fixture.render(c, data, width: w, height: h)
                #expect(lines.count == h)
                #expect(lines.allSatisfy { CellGrid.displayWidth($0) <= w }, "view \(view) at \(w)×\(h)")
                #expect(lines[0].contains("attached"))
            }
        }
    }
}

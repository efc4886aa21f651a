@testable import Console
import Foundation
import Logging
import NIOPosix
@testable import ProxyEngine
import ProxyControl
import ProxyModel
import RouteStore
import Testing

@Suite("Console: inverse filter, copy, read-only toggle, screen dump, --once, rebalance summary")
struct OperatorHabitsTests {
    let data = Fixture.data()

    @Test func aLeadingBangShowsTheRowsThatDoNotMatchAndBangTogglesIt() {
        let c = ConsoleController()
        for ch in "/!sensor" { _ = c.handle(.char(ch), data: data) }
        _ = c.handle(.enter, data: data)
        // Only the client without an id is left.
        #expect(ViewRows.connections(c.state, data).map(\.clientID) == [nil])
        _ = c.handle(.char("!"), data: data)
        #expect(c.state.filter[.connections] == "sensor")
        #expect(ViewRows.connections(c.state, data).count == 11)
        _ = c.handle(.char("!"), data: data)
        #expect(c.state.filter[.connections] == "!sensor")
        // A regex inverts too.
        _ = c.handle(.escape, data: data)
        for ch in "/!^sensor-000[1-9] " { _ = c.handle(.char(ch), data: data) }
        _ = c.handle(.enter, data: data)
        #expect(ViewRows.connections(c.state, data).compactMap(\.clientID) == ["sensor-0010", "sensor-0011",
                                                                             "sensor-0012"])
        // With no filter, `!` opens the prompt with the bang typed.
        _ = c.handle(.escape, data: data)
        _ = c.handle(.char("!"), data: data)
        #expect(c.state.filterDraft == "!")
        // A lone bang filters nothing.
        _ = c.handle(.enter, data: data)
        #expect(ViewRows.connections(c.state, data).count == 12)
    }

    @Test func yCopiesTheSelectedClientIDAndRefusesAnEmptyOne() {
        let c = ConsoleController()
        #expect(c.handle(.char("y"), data: data) == [.copy("sensor-0001")])
        #expect(c.state.status?.text.contains("copied client id sensor-0001") == true)
        // The client without an id sorts last.
        _ = c.handle(.char("G"), data: data)
        #expect(c.handle(.char("y"), data: data) == [])
        #expect(c.state.status?.isError == true)
        // Only in Connections.
        _ = c.handle(.char("3"), data: data)
        #expect(c.handle(.char("y"), data: data) == [])
    }

    @Test func readOnlyTogglesUnlessStartedReadOnly() {
        let c = ConsoleController()
        _ = c.handle(.char("R"), data: data)
        #expect(c.state.readonly)
        #expect(Fixture.render(c, data)[0].contains("READ-ONLY"))
        #expect(c.handle(.char("x"), data: data) == [])
        #expect(c.state.status?.text.contains("read-only console") == true)
        _ = c.handle(.char("R"), data: data)
        #expect(!c.state.readonly)
        _ = c.handle(.char("x"), data: data)
        #expect(c.state.overlay != nil)

        let locked = ConsoleController(readonly: true)
        _ = locked.handle(.char("R"), data: data)
        #expect(locked.state.readonly)
        #expect(locked.state.status?.text.contains("--readonly") == true)
    }

    @Test func wAsksForADumpWhoseTextIsTheFrame() {
        let c = ConsoleController()
        #expect(c.handle(.char("W"), data: data) == [.dumpScreen])
        let grid = c.render(data: data, width: 80, height: 24)
        let text = ScreenDump.text(grid)
        #expect(text.hasSuffix("\n"))
        #expect(text.split(separator: "\n", omittingEmptySubsequences: false).count == 25)
        #expect(text.contains("sensor-0001"))
        #expect(!text.contains { $0 == "\u{0}" })
        let name = ScreenDump.fileName(at: Date(timeIntervalSince1970: 1_800_000_000))
        #expect(name == "mqtt-proxy-screen-20270115-080000.txt")
    }

    @Test func theRebalanceBoxLeadsWithRouteAndPairTotals() {
        var moves: [RebalancePreview.Move] = []
        for i in 0..<7 {
            moves.append(.init(connectionID: UInt64(i), clientID: "c\(i)", hashKey: "c\(i)", routeID: "1",
                               from: "127.0.0.1:1883", to: i < 5 ? "127.0.0.3:1883" : "127.0.0.2:1883"))
        }
        moves.append(.init(connectionID: 9, clientID: "d", hashKey: "d", routeID: "2", from: "127.0.0.2:1883", to: nil))
        let preview = RebalancePreview(considered: 20, moves: moves)
        #expect(preview.flows.map(\.count) == [5, 2, 1])
        #expect(preview.flows[0].to == "127.0.0.3:1883")
        #expect(preview.movesPerRoute.map(\.routeID) == ["1", "2"])

        let c = ConsoleController()
        _ = c.propose(routeID: "1", body: ["upstream": ["nodes": ["127.0.0.3:1883": 1]]])
        c.previewReady(preview)
        let lines = Fixture.render(c, data, width: 80, height: 24)
        let text = lines.joined(separator: "\n")
        #expect(text.contains("8 of 20 connected clients would move"))
        let route1 = lines.firstIndex { $0.contains("route 1: 7 move") }
        let pair = lines.firstIndex { $0.contains("127.0.0.1:1883 → 127.0.0.3:1883  5") }
        let list = lines.firstIndex { $0.contains("c0: 127.0.0.1:1883 → 127.0.0.3:1883") }
        #expect(route1 != nil && pair != nil && list != nil)
        if let route1, let pair, let list { #expect(route1 < pair && pair < list) }
        #expect(text.contains("route 2: 1 move"))
        #expect(text.contains("127.0.0.2:1883 → (no node)  1"))
    }

    @Test(arguments: ViewKind.allCases)
    func onceRendersEachViewAsTextAtEightyByTwentyFour(view: ViewKind) async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        var logger = Logger(label: "once-test")
        logger.logLevel = .error
        let engine = ProxyEngine(settings: EngineSettings(), group: group, logger: logger)
        let store = StoreSnapshot(revision: 4, resources: data.resources)
        _ = await engine.apply(store)
        let text = OnceRender.text(engine: engine, store: store, view: view, width: 80, height: 24)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(lines.count == 24)
        #expect(lines.allSatisfy { CellGrid.displayWidth(String($0)) <= 80 })
        #expect(lines[0].hasPrefix(" mqtt-proxy"))
        #expect(lines[1].contains("\(view.rawValue) \(view.title)"))
        switch view {
        case .connections: #expect(text.contains("no relayed connections yet"))
        case .mappings: #expect(text.contains("127.0.0.1:1883"))
        case .routes:
            #expect(text.contains("MQTT/4"))
            #expect(text.contains("plain"))
        case .log: #expect(lines.count == 24)
        }
    }

    @Test func onceSizesComeFromTheOptionOrTheEnvironment() throws {
        #expect(try OnceRender.size("120x36", environment: [:]) == (120, 36))
        #expect(try OnceRender.size(nil, environment: ["COLUMNS": "100", "LINES": "30"]) == (100, 30))
        #expect(try OnceRender.size(nil, environment: [:]) == (80, 24))
        #expect(throws: OnceError.self) { try OnceRender.size("10x2", environment: [:]) }
        #expect(throws: OnceError.self) { try OnceRender.size("wide", environment: [:]) }
    }
}

@Suite("Console: the mouse")
struct MouseTests {
    let data = Fixture.data()

    @Test func aClickSelectsTheRowUnderItInEveryListView() {
        let c = ConsoleController()
        var lines = Fixture.render(c, data)
        // Connections: the header is row 2, the first client row 3.
        let row = try! #require(lines.firstIndex { $0.contains("sensor-0004") })
        _ = c.handle(.click(row: row, column: 5), data: data)
        #expect(ViewRows.connections(c.state, data)[c.state.selected].clientID == "sensor-0004")
        // A click outside the list changes nothing.
        _ = c.handle(.click(row: 0, column: 5), data: data)
        #expect(ViewRows.connections(c.state, data)[c.state.selected].clientID == "sensor-0004")

        _ = c.handle(.char("3"), data: data)
        lines = Fixture.render(c, data)
        let plain = try! #require(lines.firstIndex { $0.hasPrefix("plain") || $0.contains(" plain ") })
        _ = c.handle(.click(row: plain, column: 1), data: data)
        #expect(ViewRows.routes(c.state, data)[c.state.selected].stored.id == "plain")

        _ = c.handle(.char("4"), data: data)
        lines = Fixture.render(c, data)
        let reload = try! #require(lines.firstIndex { $0.contains("store file reloaded") })
        _ = c.handle(.click(row: reload, column: 1), data: data)
        #expect(c.state.selected == 0)
        #expect(!c.state.followLog)
    }

    @Test func theWheelMovesTheSelectionAndScrollsBoxes() {
        let c = ConsoleController()
        _ = Fixture.render(c, data)
        _ = c.handle(.wheelDown, data: data)
        _ = c.handle(.wheelDown, data: data)
        #expect(c.state.selected == 2)
        _ = c.handle(.wheelUp, data: data)
        #expect(c.state.selected == 1)
        // Over the help box the wheel scrolls the help, and clicks select nothing underneath.
        _ = c.handle(.char("?"), data: data)
        _ = Fixture.render(c, data)
        _ = c.handle(.wheelDown, data: data)
        #expect(c.state.helpScroll == 1)
        _ = c.handle(.click(row: 5, column: 5), data: data)
        #expect(c.state.selected == 1)
        #expect(c.state.overlay == .help)
    }
}

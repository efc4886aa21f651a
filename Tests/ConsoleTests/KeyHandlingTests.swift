@testable import Console
@testable import ProxyEngine
import ProxyModel
import Testing
import ProxyControl

@Suite("Console key handling as pure state transitions")
struct KeyHandlingTests {
    let data = Fixture.data()

    @Test func viewsSwitchByNumberAndTab() {
        let c = ConsoleController()
        _ = c.handle(.char("3"), data: data)
        #expect(c.state.view == .routes)
        _ = c.handle(.tab, data: data)
        #expect(c.state.view == .log)
        _ = c.handle(.tab, data: data)
        #expect(c.state.view == .connections)
        _ = c.handle(.backTab, data: data)
        #expect(c.state.view == .log)
    }

    @Test func filterNarrowsAndEscapeClears() {
        let c = ConsoleController()
        for ch in "/0012" { _ = c.handle(.char(ch), data: data) }
        _ = c.handle(.enter, data: data)
        #expect(c.state.filter[.connections] == "0012")
        let lines = Fixture.render(c, data)
        #expect(lines.contains { $0.contains("sensor-0012") })
        #expect(!lines.contains { $0.contains("sensor-0001 ") })
        _ = c.handle(.escape, data: data)
        #expect(c.state.filter[.connections] == nil)
        // A regex works too.
        for ch in "/^sensor-00(01|02) " { _ = c.handle(.char(ch), data: data) }
        _ = c.handle(.enter, data: data)
        #expect(ViewRows.connections(c.state, data).compactMap(\.clientID) == ["sensor-0001", "sensor-0002"])
    }

    @Test func sortCyclesAndReverses() {
        let c = ConsoleController()
        _ = c.handle(.char("s"), data: data)
        #expect(c.state.sortColumn[.connections] == 1)
        #expect(c.state.status?.text == "sorted by remote")
        _ = c.handle(.char("S"), data: data)
        let first = ViewRows.connections(c.state, data).first
        #expect(first?.remoteAddress == "10.1.0.9")
    }

    @Test func navigationStaysInBounds() {
        let c = ConsoleController()
        _ = c.handle(.up, data: data)
        #expect(c.state.selection[.connections] == 0)
        _ = c.handle(.end, data: data)
        #expect(c.state.selection[.connections] == 11)
        _ = c.handle(.down, data: data)
        #expect(c.state.selection[.connections] == 11)
        _ = c.handle(.char("k"), data: data)
        #expect(c.state.selection[.connections] == 10)
    }

    @Test func deleteAsksAndDefaultsToNo() {
        let c = ConsoleController()
        _ = c.handle(.char("3"), data: data)
        #expect(c.handle(.char("d"), data: data).isEmpty)
        guard case .confirm(let d) = c.state.overlay else { Issue.record("no confirmation"); return }
        #expect(!d.yes)
        #expect(c.handle(.enter, data: data).isEmpty)
        #expect(c.state.overlay == nil)
        _ = c.handle(.char("d"), data: data)
        _ = c.handle(.right, data: data)
        #expect(c.handle(.enter, data: data) == [.deleteRoute(id: "1")])
        _ = c.handle(.char("d"), data: data)
        #expect(c.handle(.char("y"), data: data) == [.deleteRoute(id: "1")])
    }

    @Test func readonlyDisablesEveryMutatingKey() {
        let c = ConsoleController(readonly: true)
        _ = c.handle(.char("3"), data: data)
        for key: Key in [.char("a"), .char("e"), .char("E"), .char("d")] {
            #expect(c.handle(key, data: data).isEmpty)
            #expect(c.state.overlay == nil)
            #expect(c.state.status?.isError == true)
        }
        _ = c.handle(.char("1"), data: data)
        #expect(c.handle(.char("x"), data: data).isEmpty)
        #expect(c.state.overlay == nil)
        #expect(!Fixture.render(c).last!.contains("delete"))
    }

    @Test func quitByQColonQAndCtrlC() {
        let idle = Fixture.data(connections: 0)
        #expect(ConsoleController().handle(.char("q"), data: idle) == [.quit])
        let c = ConsoleController()
        _ = c.handle(.char(":"), data: idle)
        #expect(c.handle(.char("q"), data: idle) == [.quit])
        #expect(ConsoleController().handle(.interrupt, data: data) == [.quit])
    }

    @Test("q with connections open asks first, default No; yes ends them before quitting")
    func quitAsksWhileConnectionsAreOpen() {
        let c = ConsoleController()
        #expect(c.handle(.char("q"), data: data) == [])
        guard case .confirm(let dialog) = c.state.overlay else {
            Issue.record("no confirmation")
            return
        }
        #expect(dialog.message == "12 connections open — quit and disconnect them?")
        #expect(!dialog.yes)
        #expect(c.handle(.enter, data: data) == [], "Enter on the default answers No")
        _ = c.handle(.char("q"), data: data)
        #expect(c.handle(.char("y"), data: data) == [.endConnectionsAndQuit])
        c.beginQuitting(open: 12)
        #expect(Fixture.render(c).joined().contains("quitting: ending connections — 0 of 12 ended, 12 left"))
    }

    @Test func pauseToggles() {
        let c = ConsoleController()
        _ = c.handle(.char("p"), data: data)
        #expect(c.isPaused)
        #expect(Fixture.render(c)[0].contains("PAUSED"))
        _ = c.handle(.char("p"), data: data)
        #expect(!c.isPaused)
    }

    @Test func theFormValidatesWithTheModelsValidator() {
        let c = ConsoleController()
        _ = c.handle(.char("3"), data: data)
        _ = c.handle(.char("a"), data: data)
        guard case .form(let form) = c.state.overlay else { Issue.record("no form"); return }
        #expect(form.value(.id) == "2")
        // No nodes yet: Enter shows the validator's message and saves nothing.
        #expect(c.handle(.enter, data: data).isEmpty)
        if case .form(let f) = c.state.overlay { #expect(f.error != nil) }
        // Type a bad remote_addr, then nodes.
        for _ in 0..<3 { _ = c.handle(.tab, data: data) }
        for ch in ":/8" { _ = c.handle(.char(ch), data: data) }
        for _ in 0..<6 { _ = c.handle(.tab, data: data) }
        for ch in "127.0.0.1:1883=1, 127.0.0.2:1883=2" { _ = c.handle(.char(ch), data: data) }
        #expect(c.handle(.enter, data: data).isEmpty)
        guard case .form(let bad) = c.state.overlay else { Issue.record("form closed"); return }
        #expect(bad.error == "invalid remote_addr: :/8")
        #expect(Fixture.render(c, width: 100, height: 30).contains { $0.contains("✗ invalid remote_addr: :/8") })
        // Fix it: back to remote_addr, erase.
        for _ in 0..<6 { _ = c.handle(.backTab, data: data) }
        for _ in 0..<3 { _ = c.handle(.backspace, data: data) }
        let commands = c.handle(.enter, data: data)
        guard case .saveRoute(let id, let body) = commands.first else { Issue.record("not saved: \(commands)"); return }
        #expect(id == "2")
        #expect(body["upstream"]?["nodes"] == ["127.0.0.1:1883": 1, "127.0.0.2:1883": 2])
        #expect(body["plugins"]?["mqtt-proxy"]?["protocol_level"] == 4)
    }

    @Test func editingAChashRouteAsksForARebalancePreviewFirst() {
        let c = ConsoleController()
        _ = c.handle(.char("3"), data: data)
        _ = c.handle(.char("e"), data: data)
        guard case .form(let form) = c.state.overlay else { Issue.record("no form"); return }
        #expect(form.value(.nodes) == "127.0.0.1:1883=1, 127.0.0.2:1883=1")
        for _ in 0..<9 { _ = c.handle(.tab, data: data) }
        for ch in ", 127.0.0.3:1883=1" { _ = c.handle(.char(ch), data: data) }
        let commands = c.handle(.enter, data: data)
        guard case .previewRebalance(let id, _) = commands.first else { Issue.record("\(commands)"); return }
        #expect(id == "1")
        let preview = RebalancePreview(considered: 12, moves: [
            .init(connectionID: 1, clientID: "sensor-0001", hashKey: "sensor-0001", routeID: "1",
                  from: "127.0.0.1:1883", to: "127.0.0.3:1883"),
        ])
        c.previewReady(preview)
        let lines = Fixture.render(c, width: 100, height: 30)
        #expect(lines.contains { $0.contains("1 of 12 connected clients would move") })
        #expect(lines.contains { $0.contains("sensor-0001: 127.0.0.1:1883 → 127.0.0.3:1883") })
        guard case .saveRoute(let saved, _) = c.handle(.enter, data: data).first else {
            Issue.record("apply did not save")
            return
        }
        #expect(saved == "1")
    }

    @Test func anEditorRoundTripIsValidatedThenConfirmed() {
        let c = ConsoleController()
        _ = c.handle(.char("3"), data: data)
        guard case .editRouteInEditor(let id, let json) = c.handle(.char("E"), data: data).first else {
            Issue.record("no editor command")
            return
        }
        #expect(id == "1" && json["create_time"] == nil)
        c.editorReturned(id: "1", text: "{ not json", data: data)
        #expect(c.state.status?.isError == true)
        c.editorReturned(id: "1", text: #"{"upstream": {"nodes": {"127.0.0.1:1": 1}}, "remote_addr": "x"}"#,
                         data: data)
        #expect(c.state.status?.text == "not saved: invalid remote_addr: x")
        // Route "plain" is roundrobin: no clients can move, so a plain confirmation follows.
        c.editorReturned(id: "plain", text: #"{"upstream": {"nodes": {"127.0.0.1:1": 1}}}"#, data: data)
        guard case .confirm = c.state.overlay else { Issue.record("no confirmation"); return }
        #expect(c.handle(.char("y"), data: data).first.map { if case .saveRoute = $0 { true } else { false } } == true)
        // Route "1" is chash: changing its nodes asks for the rebalance preview first.
        let body = #"{"upstream": {"type": "chash", "key": "mqtt_client_id", "nodes": {"127.0.0.9:1": 1}}}"#
        let commands = c.editorReturned(id: "1", text: body, data: data)
        guard case .previewRebalance(let id, _) = commands.first else { Issue.record("\(commands)"); return }
        #expect(id == "1")
        c.previewReady(RebalancePreview(considered: 12, moves: []))
        guard case .rebalance(let dialog) = c.state.overlay else { Issue.record("no preview"); return }
        #expect(dialog.routeID == "1")
    }

    @Test func demoKeysActOnTheSelectedNodeAndRouteChangesGoThroughThePreview() throws {
        // Outside demo mode `k` moves up and the demo keys do nothing.
        let plain = ConsoleController()
        _ = plain.handle(.char("2"), data: data)
        _ = plain.handle(.down, data: data)
        #expect(plain.handle(.char("k"), data: data).isEmpty)
        #expect(plain.state.selection[.mappings] == 0)
        #expect(plain.handle(.char("+"), data: data).isEmpty)

        let c = ConsoleController(demo: true)
        _ = c.handle(.char("2"), data: data)
        _ = c.handle(.down, data: data)
        #expect(c.handle(.char("k"), data: data) == [.demo(.kill(node: "127.0.0.2:1883"))])
        #expect(c.handle(.char("r"), data: data) == [.demo(.revive(node: "127.0.0.2:1883"))])
        #expect(c.handle(.char("+"), data: data) == [.demo(.addBroker(routeID: "1"))])

        // `-` removes the selected node; the change is previewed, not saved.
        let removal = c.handle(.char("-"), data: data)
        guard case .previewRebalance(let id, let body)? = removal.first else {
            Issue.record("expected a preview, got \(removal)")
            return
        }
        #expect(id == "1")
        let route = try StreamRoute(json: body, id: "1")
        #expect(route.upstream?.nodes.map(\.address) == ["127.0.0.1:1883"])
        #expect(route.upstream?.type == .chash && route.upstream?.key == "mqtt_client_id")
        #expect(c.state.pendingSave?.id == "1")
        c.previewReady(RebalancePreview(considered: 12, moves: []))
        guard case .rebalance? = c.state.overlay else {
            Issue.record("expected the rebalance dialog")
            return
        }
        _ = c.handle(.escape, data: data)

        // `w` asks for a weight; digits only; Enter previews the change.
        _ = c.handle(.char("w"), data: data)
        _ = c.handle(.backspace, data: data)
        for ch in "x3" { _ = c.handle(.char(ch), data: data) }
        guard case .weight(let prompt)? = c.state.overlay else {
            Issue.record("expected the weight prompt")
            return
        }
        #expect(prompt.text == "3" && prompt.node == "127.0.0.2:1883")
        let reweighted = c.handle(.enter, data: data)
        guard case .previewRebalance(_, let newBody)? = reweighted.first else {
            Issue.record("expected a preview, got \(reweighted)")
            return
        }
        let weights = try StreamRoute(json: newBody, id: "1").upstream?.nodes.map(\.weight)
        #expect(weights == [1, 3])

        // The host proposes adding a broker: the same preview first.
        let proposed = c.propose(routeID: "1", body: newBody)
        #expect(proposed == [.previewRebalance(id: "1", body: newBody)])
        // Read-only demo: every demo key is refused.
        let readonly = ConsoleController(readonly: true, demo: true)
        _ = readonly.handle(.char("2"), data: data)
        #expect(readonly.handle(.char("k"), data: data).isEmpty)
        #expect(readonly.state.status?.isError == true)
    }
}

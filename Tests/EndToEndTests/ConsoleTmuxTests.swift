import Foundation
import NIOCore
import NIOPosix
import ProxyTestSupport
import Testing

/// `mqtt-proxy console` in a real terminal (tmux): live clients show up, `q` quits and restores the terminal.
@Suite("The console under tmux", .serialized)
struct ConsoleTmuxTests {
    /// A console running in tmux against a temp config and store, with two upstreams behind a chash route.
    struct Fixture {
        var tmux: TmuxSession
        var directory: String
        var streamPort: Int
        var upstreams: [RecordingUpstream]

        /// Marker the pane prints once the console process has exited, followed by its exit status.
        static let exitMarker = "[console exited:"

        /// Writes config and store, starts the upstreams, and starts the console in a tmux pane (120×40 unless
        /// told).
        static func start(tmuxPath: String, binary: String, group: EventLoopGroup, width: Int = 120,
                          height: Int = 40) async throws -> Fixture
        {
            let dir = NSTemporaryDirectory() + "mqtt-proxy-console-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            var upstreams: [RecordingUpstream] = []
            for _ in 0..<2 { upstreams.append(try await RecordingUpstream.start(greeting: .connack, group: group)) }
            try ServeProcess.config(mqttProxy: ["drain_timeout: 1"])
                .write(toFile: dir + "/config.yaml", atomically: true, encoding: .utf8)
            let nodes = upstreams.map { "\"\($0.address)\": 1" }.joined(separator: ", ")
            try """
                stream_routes:
                  - id: 1
                    plugins: {mqtt-proxy: {protocol_level: 4}}
                    upstream: {type: chash, key: mqtt_client_id, nodes: {\(nodes)}}
                #END

                """.write(toFile: dir + "/apisix.yaml", atomically: true, encoding: .utf8)
            let q = TmuxSession.shellQuoted
            let console = [binary, "console", "--config", dir + "/config.yaml", "--store", dir + "/apisix.yaml",
                           "--log-file", dir + "/console.log"].map(q).joined(separator: " ")
            // From the temp folder: a screen dump (`W`) lands there.
            let command = "sh -c \(q("cd \(q(dir)); \(console); echo \"\(exitMarker) $?]\"; stty -a; exec sleep 600"))"
            let tmux = try await TmuxSession.start(tmux: tmuxPath, command: command, width: width, height: height)
            // The listener binds any free port; the log says which.
            let log = dir + "/console.log"
            let ready = await eventually(timeout: 20) {
                ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("ready: stream listeners ")
            }
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            guard ready, let line = ServeProcess.line(after: "ready: stream listeners ", in: text),
                  let streamPort = Int(line.split(separator: ";")[0].split(separator: ":").last ?? "")
            else {
                await tmux.stop()
                throw BrokerError(message: "the console did not start: \(text)")
            }
            return Fixture(tmux: tmux, directory: dir, streamPort: streamPort, upstreams: upstreams)
        }

        /// The console's log so far (for failure messages).
        var log: String { (try? String(contentsOfFile: directory + "/console.log", encoding: .utf8)) ?? "" }

        func stop() async {
            await tmux.stop()
            for upstream in upstreams { await upstream.stop() }
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    @Test(.requires("tmux")) func showsLiveClientsAndRestoresTheTerminalOnQuit() async throws {
        let tools = try ExternalTools.paths(["tmux"])
        let binary = try #require(proxyBinary(), "build the mqtt-proxy product first")
        let group = MultiThreadedEventLoopGroup.singleton
        let fixture = try await Fixture.start(tmuxPath: tools["tmux"]!, binary: binary, group: group)
        let clients = ClientList()
        let outcome: Result<Void, any Error>
        do {
            try await showsClientsThenQuits(fixture, clients: clients, group: group)
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        for client in clients.all { await client.close() }
        await fixture.stop()
        try outcome.get()
    }

    /// At 80×24 the help does not fit: it scrolls to its last key, and Esc closes it.
    @Test(.requires("tmux")) func helpScrollsToEveryKeyAtEightyByTwentyFour() async throws {
        let tools = try ExternalTools.paths(["tmux"])
        let binary = try #require(proxyBinary(), "build the mqtt-proxy product first")
        let fixture = try await Fixture.start(tmuxPath: tools["tmux"]!, binary: binary,
                                              group: MultiThreadedEventLoopGroup.singleton, width: 80, height: 24)
        let outcome: Result<Void, any Error>
        do {
            let tmux = fixture.tmux
            let started = try await tmux.waitFor { $0.contains("mqtt-proxy") && $0.contains("listen") }
            try #require(started.ok, "the console did not start:\n\(started.screen)")
            try await tmux.send(keys: "?")
            let top = try await tmux.waitFor { $0.contains("Keys — Esc closes") && $0.contains("scroll · 1–") }
            #expect(top.ok, "no scrolling help at 80×24:\n\(top.screen)")
            #expect(!top.screen.contains("close a box"))
            try await tmux.send(keys: "End")
            let end = try await tmux.waitFor { $0.contains("close a box") && $0.contains("quit") }
            #expect(end.ok, "End did not reach the last keys:\n\(end.screen)")
            try await tmux.send(keys: "Escape")
            let closed = try await tmux.waitFor { !$0.contains("Keys — Esc closes") }
            #expect(closed.ok, "Esc did not close the help:\n\(closed.screen)")
            try await tmux.send(keys: "q")
            let exited = try await tmux.waitFor { $0.contains(Fixture.exitMarker) }
            #expect(exited.ok, "the console did not exit:\n\(exited.screen)")
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        await fixture.stop()
        try outcome.get()
    }

    @Test(.requires("tmux")) func deletesAndAddsRoutesWithTheKeyboard() async throws {
        let tools = try ExternalTools.paths(["tmux"])
        let binary = try #require(proxyBinary(), "build the mqtt-proxy product first")
        let group = MultiThreadedEventLoopGroup.singleton
        let fixture = try await Fixture.start(tmuxPath: tools["tmux"]!, binary: binary, group: group)
        let outcome: Result<Void, any Error>
        do {
            try await editRoutes(fixture, group: group)
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        await fixture.stop()
        try outcome.get()
    }

    private func editRoutes(_ fixture: Fixture, group: EventLoopGroup) async throws {
        let tmux = fixture.tmux
        let started = try await tmux.waitFor { $0.contains("mqtt-proxy") && $0.contains("listen") }
        try #require(started.ok, "the console did not start:\n\(started.screen)\nlog:\n\(fixture.log)")
        try await tmux.send(keys: "3")
        _ = try await tmux.waitFor { $0.contains("UPSTREAM") }

        // Delete: the confirmation defaults to No, so Enter keeps the route.
        try await tmux.send(keys: "d")
        let asked = try await tmux.waitFor { $0.contains("Delete stream route 1?") && $0.contains("[ No ]") }
        #expect(asked.ok, "\(asked.screen)")
        try await tmux.send(keys: "Enter")
        let kept = try await tmux.waitFor { $0.contains("delete route: cancelled") }
        #expect(kept.ok, "\(kept.screen)")
        try await tmux.send(keys: "d")
        _ = try await tmux.waitFor { $0.contains("Delete stream route 1?") }
        try await tmux.send(keys: "y")
        let deleted = try await tmux.waitFor { $0.contains("no stream routes") }
        #expect(deleted.ok, "route not deleted:\n\(deleted.screen)\nlog:\n\(fixture.log)")
        let refused = try await TestClient.connect(port: fixture.streamPort, group: group)
        try? await refused.send(ConnectBytes.make(clientID: "no-route"))
        #expect(await refused.waitForClose(), "a client still found a route after the delete")

        // Add a route through the form: a bad value first (shown inline), then a good one.
        try await tmux.send(keys: "a")
        _ = try await tmux.waitFor { $0.contains("Add route") }
        for _ in 0..<3 { try await tmux.send(keys: "Tab") }
        try await tmux.type(":/8")
        for _ in 0..<6 { try await tmux.send(keys: "Tab") }
        let target = fixture.upstreams[1]
        try await tmux.type("\(target.address)=1")
        try await tmux.send(keys: "Enter")
        let invalid = try await tmux.waitFor { $0.contains("invalid remote_addr: :/8") }
        #expect(invalid.ok, "\(invalid.screen)")
        for _ in 0..<6 { try await tmux.send(keys: "BTab") }
        for _ in 0..<3 { try await tmux.send(keys: "BSpace") }
        try await tmux.send(keys: "Enter")
        let saved = try await tmux.waitFor { $0.contains("stream route 1 created") }
        #expect(saved.ok, "\(saved.screen)\nlog:\n\(fixture.log)")
        let client = try await TestClient.connect(port: fixture.streamPort, group: group)
        try await client.send(ConnectBytes.make(clientID: "via-form"))
        #expect(await client.waitForBytes(4).count >= 4, "no CONNACK through the new route")
        #expect(target.clientIDs.contains("via-form"))
        await client.close()
        try await tmux.send(keys: "q")
        _ = try await tmux.waitFor { $0.contains(Fixture.exitMarker) }
    }

    @Test func withoutATerminalItPointsToServe() async throws {
        let binary = try #require(proxyBinary(), "build the mqtt-proxy product first")
        for arguments in [["console"], []] {
            let console = try ChildProcess(binary, arguments + ["--config", "/nonexistent/config.yaml"])
            #expect(await console.wait(timeout: 20) == 1)
            #expect(console.text.contains("needs an interactive terminal"), "\(console.text)")
            #expect(console.text.contains("mqtt-proxy serve"), "\(console.text)")
        }
    }

    /// `console --once` needs no terminal: it prints the view's frame and exits, binding nothing.
    @Test func oncePrintsTheRoutesViewAsTextWithoutATerminal() async throws {
        let binary = try #require(proxyBinary(), "build the mqtt-proxy product first")
        let dir = NSTemporaryDirectory() + "mqtt-proxy-once-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try ServeProcess.config().write(toFile: dir + "/config.yaml", atomically: true, encoding: .utf8)
        try """
            stream_routes:
              - id: once-route
                desc: printed once
                plugins: {mqtt-proxy: {protocol_level: 4}}
                upstream: {type: chash, key: mqtt_client_id, nodes: {"127.0.0.1:1883": 1, "127.0.0.2:1883": 1}}
            #END

            """.write(toFile: dir + "/apisix.yaml", atomically: true, encoding: .utf8)
        let once = try ChildProcess(binary, ["console", "--once", "--view", "3", "--size", "80x24",
                                             "--config", dir + "/config.yaml", "--store", dir + "/apisix.yaml"])
        #expect(await once.wait(timeout: 30) == 0, "\(once.text)")
        let lines = once.text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.contains { $0.contains("3 Routes") }, "\(once.text)")
        #expect(once.text.contains("once-route"), "\(once.text)")
        #expect(lines.allSatisfy { CellGrid80.fits($0) }, "\(once.text)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/mqtt-proxy.log"), "--once wrote a log file")

        let bad = try ChildProcess(binary, ["console", "--once", "--view", "9", "--config", dir + "/config.yaml"])
        #expect(await bad.wait(timeout: 20) == 64, "\(bad.text)")
        #expect(bad.text.contains("--view must be 1, 2, 3 or 4"), "\(bad.text)")
    }

    private func showsClientsThenQuits(_ fixture: Fixture, clients: ClientList, group: EventLoopGroup) async throws {
        let started = try await fixture.tmux.waitFor { $0.contains("mqtt-proxy") && $0.contains("listen") }
        try #require(started.ok, "the console did not start:\n\(started.screen)\nlog:\n\(fixture.log)")

        let ids = ["tmux-client-1", "tmux-client-2", "tmux-client-3"]
        for id in ids {
            let client = try await TestClient.connect(port: fixture.streamPort, group: group)
            clients.all.append(client)
            try await client.send(ConnectBytes.make(clientID: id))
        }
        for client in clients.all {
            #expect(await client.waitForBytes(4).count >= 4, "no CONNACK through the proxy")
        }
        let placed = Set(fixture.upstreams.flatMap { $0.clientIDs.compactMap { $0 } })
        #expect(placed == Set(ids))
        let nodes = fixture.upstreams.filter { !$0.clientIDs.isEmpty }.map(\.address)

        let shown = try await fixture.tmux.waitFor { screen in
            ids.allSatisfy { screen.contains($0) } && nodes.allSatisfy { screen.contains($0) }
        }
        #expect(shown.ok, "client ids \(ids) and nodes \(nodes) not on screen:\n\(shown.screen)")

        // `y` copies the selected client id through OSC 52: tmux (set-clipboard on) makes it a paste buffer.
        try await fixture.tmux.run(["set-option", "-g", "set-clipboard", "on"])
        try await fixture.tmux.send(keys: "y")
        let copied = try await fixture.tmux.waitFor { $0.contains("copied client id tmux-client-1") }
        #expect(copied.ok, "y did not copy:\n\(copied.screen)")
        var buffer = ""
        for _ in 0..<50 where buffer != "tmux-client-1" {
            buffer = (try? await fixture.tmux.run(["show-buffer"])) ?? ""
            if buffer != "tmux-client-1" { try await Task.sleep(nanoseconds: 200_000_000) }
        }
        #expect(buffer == "tmux-client-1", "tmux's buffer: \(buffer)")
        // `W` writes the screen to a text file in the working folder.
        try await fixture.tmux.send(keys: "W")
        let dumped = try await fixture.tmux.waitFor { $0.contains("screen written to mqtt-proxy-screen-") }
        #expect(dumped.ok, "W did not dump:\n\(dumped.screen)")
        let dumps = (try? FileManager.default.contentsOfDirectory(atPath: fixture.directory))?
            .filter { $0.hasPrefix("mqtt-proxy-screen-") } ?? []
        #expect(dumps.count == 1, "\(dumps)")
        if let dump = dumps.first {
            let text = (try? String(contentsOfFile: fixture.directory + "/" + dump, encoding: .utf8)) ?? ""
            #expect(ids.allSatisfy { text.contains($0) }, "the dump lacks the client ids:\n\(text)")
        }

        // Connections are open: q asks first (default No), y ends them and quits.
        try await fixture.tmux.send(keys: "q")
        let asked = try await fixture.tmux.waitFor { $0.contains("3 connections open — quit and disconnect them?") }
        #expect(asked.ok, "q did not ask:\n\(asked.screen)")
        try await fixture.tmux.send(keys: "y")
        // The marker comes first, then `stty -a`'s modes (with `icanon` or `-icanon`): wait for both.
        let exited = try await fixture.tmux.waitFor { $0.contains(Fixture.exitMarker) && $0.contains("icanon") }
        #expect(exited.ok, "the console did not exit on q:\n\(exited.screen)\nlog:\n\(fixture.log)")
        #expect(exited.screen.contains("\(Fixture.exitMarker) 0]"), "\(exited.screen)")
        // The terminal is back in cooked mode with echo, and the console's screen is gone.
        let modes = exited.screen.split(whereSeparator: \.isWhitespace).map(String.init)
        #expect(modes.contains("icanon") && modes.contains("echo"), "terminal not restored:\n\(exited.screen)")
        #expect(!exited.screen.contains("tmux-client-1"), "console screen left behind:\n\(exited.screen)")
        #expect(fixture.log.contains("engine stopped"), "\(fixture.log)")
    }
}

/// Whether a printed line fits 80 terminal columns (box drawing and arrows are one column each).
enum CellGrid80 {
    static func fits(_ line: String) -> Bool { line.count <= 80 }
}

/// The test's MQTT clients, kept open until the end (closed after the console quit).
final class ClientList: @unchecked Sendable {
    // @unchecked: used by one test task at a time, sequentially.
    var all: [TestClient] = []
}

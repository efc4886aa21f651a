import Foundation
import NIOCore
import NIOPosix
import ProxyModel
import ProxyTestSupport
import Testing

/// `mqtt-proxy console --attach` over headless `serve` processes: in a real terminal (tmux), and as `--once` text.
@Suite("The console attached to running instances", .serialized)
struct AttachEndToEndTests {
    static let key = "edd1c9f034335f136f87ad84b625c8f1"

    /// A console in a tmux pane running `arguments` after `console`, from `directory`; the pane prints a marker when
    /// it exits.
    static func console(_ arguments: [String], binary: String, directory: String, width: Int = 120,
                        height: Int = 36) async throws -> TmuxSession
    {
        let tmux = try #require(ExternalTools.find("tmux"))
        let q = TmuxSession.shellQuoted
        let line = ([binary, "console"] + arguments + ["--log-file", directory + "/attach.log"]).map(q).joined(separator: " ")
        let command = "sh -c \(q("cd \(q(directory)); \(line); echo \"[console exited: $?]\"; exec sleep 600"))"
        return try await TmuxSession.start(tmux: tmux, command: command, width: width, height: height,
                                           environment: ["MQTT_PROXY_ADMIN_KEY": key])
    }

    /// In the console of `tmux`: Routes, `e` on route 1, the description set to `text`, saved; expects the save.
    static func editDescription(of tmux: TmuxSession, to text: String) async throws {
        try await tmux.send(keys: "3")
        _ = try await tmux.waitFor { $0.contains("UPSTREAM") }
        try await tmux.send(keys: "e")
        _ = try await tmux.waitFor { $0.contains("Edit route 1") }
        try await tmux.send(keys: "Tab")
        try await tmux.type(text)
        try await tmux.send(keys: "Enter")
        let saved = try await tmux.waitFor { $0.contains("stream route 1 saved") }
        #expect(saved.ok, "\(saved.screen)")
    }

    /// Held MQTT clients through `port`.
    static func clients(_ ids: [String], port: Int, group: EventLoopGroup) async throws -> [TestClient] {
        var out: [TestClient] = []
        for id in ids {
            let c = try await TestClient.connect(port: port, group: group)
            try await c.send(ConnectBytes.make(clientID: id))
            #expect(await c.waitForBytes(4).count >= 4, "no CONNACK for \(id)")
            out.append(c)
        }
        return out
    }

    @Test(.requires("tmux")) func attachedToOneServeItShowsClientsEditsTheRouteAndGreysAKilledInstance() async throws {
        let binary = try #require(proxyBinary(), "build the mqtt-proxy product first")
        let group = MultiThreadedEventLoopGroup.singleton
        let dir = NSTemporaryDirectory() + "mqtt-proxy-attach-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let brokers = [try await RecordingUpstream.start(host: "127.0.0.1", greeting: .connack, group: group),
                       try await RecordingUpstream.start(host: "127.0.0.2", greeting: .connack, group: group)]
        try ServeProcess.config(mqttProxy: ["instance_id: edge-1", "log_level: notice"])
            .write(toFile: dir + "/config.yaml", atomically: true, encoding: .utf8)
        let serve = try await ServeProcess(binary: binary, arguments: ["--config", dir + "/config.yaml",
                                                                       "--store", dir + "/apisix.yaml"])
        let nodes = brokers.map { "{\"host\":\"\($0.host)\",\"port\":\($0.port),\"weight\":1}" }.joined(separator: ",")
        let route = #"{"plugins":{"mqtt-proxy":{"protocol_level":4}},"upstream":{"type":"chash","key":"mqtt_client_id","nodes":[\#(nodes)]}}"#
        let (status, _) = try await serve.admin("PUT", "/apisix/admin/stream_routes/1", body: route)
        #expect(status == 201)
        let ids = ["attached-1", "attached-2", "attached-3"]
        let held = try await Self.clients(ids, port: try #require(serve.streamPorts.first), group: group)
        let tmux = try await Self.console(["--attach", "http://127.0.0.1:\(serve.adminPort)"], binary: binary,
                                          directory: dir)
        let outcome: Result<Void, any Error>
        do {
            let shown = try await tmux.waitFor { screen in
                screen.contains("attached to http://127.0.0.1:\(serve.adminPort)") && screen.contains("edge-1 ●")
                    && ids.allSatisfy(screen.contains)
            }
            #expect(shown.ok, "live client ids not shown:\n\(shown.screen)")
            try await tmux.send(keys: "2")
            let placed = brokers.filter { !$0.clientIDs.isEmpty }.map(\.address)
            let mapped = try await tmux.waitFor { screen in placed.allSatisfy(screen.contains) }
            #expect(mapped.ok, "nodes \(placed) not shown:\n\(mapped.screen)")

            // An edit in the console reaches the instance.
            try await Self.editDescription(of: tmux, to: "edited-while-attached")
            let (_, body) = try await serve.admin("GET", "/apisix/admin/stream_routes/1")
            #expect(body.contains("edited-while-attached"), "\(body)")

            // The instance dies: its rows stay, greyed, and the bar says so.
            try await tmux.send(keys: "1")
            kill(serve.child.pid, SIGKILL)
            let lost = try await tmux.waitFor { screen in
                screen.contains("edge-1 ✗ lost") && screen.contains("(1 lost)") && screen.contains("attached-1")
            }
            #expect(lost.ok, "the lost instance is not shown as such:\n\(lost.screen)")
            try await tmux.send(keys: "q")
            let exited = try await tmux.waitFor { $0.contains("[console exited: 0]") }
            #expect(exited.ok, "q did not quit at once:\n\(exited.screen)")
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        await tmux.stop()
        serve.stop()
        for c in held { await c.close() }
        for b in brokers { await b.stop() }
        try outcome.get()
    }

    @Test(.requires("tmux", "etcd", "etcdctl"))
    func attachedThroughEtcdItFollowsBothGreysTheKilledOneAndEditsThroughTheOther() async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let fleet = try await FleetEndToEndTests.Fleet.start(group: group)
        let outcome: Result<Void, any Error>
        var held: [TestClient] = []
        var tmux: TmuxSession?
        do {
            let (status, _) = try await fleet.a.admin("PUT", "/apisix/admin/stream_routes/1", body: fleet.routeBody)
            #expect(status == 201)
            // B routes once the route reached it through etcd.
            let deadline = Date().addingTimeInterval(10)
            while Date() < deadline, await !FleetEndToEndTests.connects(try #require(fleet.b.streamPorts.first),
                                                                        "probe", group: group) {}
            held += try await Self.clients(["via-a-1", "via-a-2"], port: try #require(fleet.a.streamPorts.first), group: group)
            held += try await Self.clients(["via-b-1"], port: try #require(fleet.b.streamPorts.first), group: group)

            // As text first: --once waits for both instances.
            let once = try ChildProcess(fleet.binary, ["console", "--once", "--attach", "etcd", "--config",
                                                       fleet.directory + "/a.yaml", "--view", "1", "--size", "120x30",
                                                       "--key", Self.key])
            #expect(await once.wait(timeout: 30) == 0, "\(once.text)")
            for text in ["instance-a ●", "instance-b ●", "INSTANCE", "via-a-1", "via-b-1"] {
                #expect(once.text.contains(text), "--once lacks \(text):\n\(once.text)")
            }

            let console = try await Self.console(["--attach", "etcd", "--config", fleet.directory + "/a.yaml"],
                                                 binary: fleet.binary, directory: fleet.directory)
            tmux = console
            let shown = try await console.waitFor { screen in
                ["instance-a ●", "instance-b ●", "via-a-1", "via-a-2", "via-b-1", "attached to 2 instances"]
                    .allSatisfy(screen.contains)
            }
            #expect(shown.ok, "both instances' clients not shown:\n\(shown.screen)")

            // The instance the console edits through (the first by address) dies: its rows stay, greyed, and the
            // next edit goes through the other one, reaching the routes both share in etcd.
            let url = { (p: ServeProcess) in "http://127.0.0.1:\(p.adminPort)" }
            let aFirst = url(fleet.a) < url(fleet.b)
            let (dead, survivor) = aFirst ? (fleet.a, fleet.b) : (fleet.b, fleet.a)
            let (deadName, survivorName) = aFirst ? ("instance-a", "instance-b") : ("instance-b", "instance-a")
            kill(dead.child.pid, SIGKILL)
            let lost = try await console.waitFor { screen in
                screen.contains("\(deadName) ✗ lost") && screen.contains("\(survivorName) ●")
                    && screen.contains(aFirst ? "via-a-1" : "via-b-1")
            }
            #expect(lost.ok, "\(deadName) not shown as lost:\n\(lost.screen)")
            try await Self.editDescription(of: console, to: "fleet-wide")
            var reached = false
            let until = Date().addingTimeInterval(10)
            while !reached, Date() < until {
                reached = (try? await survivor.admin("GET", "/apisix/admin/stream_routes/1"))?.1.contains("fleet-wide") == true
                if !reached { try await Task.sleep(nanoseconds: 100_000_000) }
            }
            #expect(reached, "the edit did not reach \(survivorName)")
            try await console.send(keys: "q")
            _ = try await console.waitFor { $0.contains("[console exited:") }
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        if let tmux { await tmux.stop() }
        for c in held { await c.close() }
        await fleet.stop()
        try outcome.get()
    }

    @Test func attachingToNothingThatAnswersExitsWithTheReason() async throws {
        let binary = try #require(proxyBinary(), "build the mqtt-proxy product first")
        let port = try ExternalTools.freePort()
        let once = try ChildProcess(binary, ["console", "--once", "--attach", "http://127.0.0.1:\(port)"])
        #expect(await once.wait(timeout: 20) == 1)
        #expect(once.text.contains("cannot attach"), "\(once.text)")
        #expect(once.text.contains("127.0.0.1:\(port)"), "\(once.text)")
    }
}

import Foundation
import NIOPosix
import ProxyTestSupport
import Testing

/// The built `mqtt-proxy` executable, next to the test bundle in the build folder.
func proxyBinary() -> String? { builtBinary("mqtt-proxy") }

/// A built executable of this package, next to the test bundle in the build folder.
func builtBinary(_ name: String) -> String? {
    var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for _ in 0..<4 {
        let candidate = dir.appendingPathComponent(name).path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        dir = dir.deletingLastPathComponent()
    }
    let fallback = FileManager.default.currentDirectoryPath + "/.build/debug/" + name
    return FileManager.default.isExecutableFile(atPath: fallback) ? fallback : nil
}

@Suite("The mqtt-proxy command", .serialized)
struct ServeCommandTests {
    func tempDir() throws -> String {
        let dir = NSTemporaryDirectory() + "mqtt-proxy-cmd-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func checkReportsEveryProblemWithItsPosition() async throws {
        let binary = try #require(proxyBinary(), "build the mqtt-proxy product first")
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "apisix:\n  stream_proxy:\n    tcp: [\"127.0.0.1:9100\"]\n  router: {http: radixtree_uri}\n"
            .write(toFile: dir + "/config.yaml", atomically: true, encoding: .utf8)
        try """
            stream_routes:
              - id: 1
                remote_addr: ":/8"
                upstream: {nodes: {"127.0.0.1:1883": 1}}
              - id: 2
                plugins: {mqttt-proxy: {}}
                upstream: {nodes: {"127.0.0.1:1883": 1}}
            #END

            """.write(toFile: dir + "/apisix.yaml", atomically: true, encoding: .utf8)
        let check = try ChildProcess(binary, ["check", "--config", dir + "/config.yaml"])
        #expect(await check.wait(timeout: 20) == 1)
        let out = check.text
        #expect(out.contains("\(dir)/apisix.yaml:3:18: stream_routes[0] (id 1): invalid remote_addr: :/8"), "\(out)")
        #expect(out.contains("\(dir)/apisix.yaml:6:"), "\(out)")
        #expect(out.contains("unknown plugin [mqttt-proxy]"))
        #expect(out.contains("warning: \(dir)/config.yaml:4:11: apisix.router does not apply"), "\(out)")

        let badConfig = try ChildProcess(binary, ["check", "--config", dir + "/nope.yaml"])
        #expect(await badConfig.wait(timeout: 20) == 1)
        #expect(badConfig.text.contains("nope.yaml: no such file"))
    }

    @Test(.requires("mosquitto", "mosquitto_pub")) func serveRunsUntilSIGTERMAndDrains() async throws {
        let tools = try ExternalTools.paths(["mosquitto", "mosquitto_pub"])
        let binary = try #require(proxyBinary(), "build the mqtt-proxy product first")
        let broker = try await MosquittoBroker.start(binary: tools["mosquitto"]!)
        defer { broker.stop() }
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try ServeProcess.config(mqttProxy: ["drain_timeout: 2"])
            .write(toFile: dir + "/config.yaml", atomically: true, encoding: .utf8)
        try """
            stream_routes:
              - id: 1
                plugins: {mqtt-proxy: {protocol_level: 4}}
                upstream: {type: chash, key: mqtt_client_id, nodes: {"\(broker.address)": 1}}
            #END

            """.write(toFile: dir + "/apisix.yaml", atomically: true, encoding: .utf8)
        let serve = try await ServeProcess(binary: binary, arguments: ["--config", dir + "/config.yaml"])
        defer { serve.stop() }
        let port = try #require(serve.streamPorts.first)
        let pub = try ChildProcess(tools["mosquitto_pub"]!, ["-h", "127.0.0.1", "-p", "\(port)", "-i", "cmd-test",
                                                             "-t", "t", "-m", "m", "-V", "mqttv311"])
        #expect(await pub.wait(timeout: 10) == 0, "\(pub.text)")
        // Log lines are written by a batching thread: wait for the line rather than read at once.
        #expect(await eventually(timeout: 5) { serve.text.contains("proxy request to \(broker.address)") },
                "\(serve.text)")
        kill(serve.pid, SIGTERM)
        #expect(await serve.child.wait(timeout: 10) == 0)
        #expect(serve.text.contains("engine stopped"))
    }

    @Test func aBrokenStoreStopsStartUp() async throws {
        let binary = try #require(proxyBinary(), "build the mqtt-proxy product first")
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "apisix:\n  stream_proxy:\n    tcp: [\"127.0.0.1:1\"]\n".write(toFile: dir + "/config.yaml",
                                                                       atomically: true, encoding: .utf8)
        try "stream_routes:\n  - id: 1\n    server_port: 0\n#END\n".write(toFile: dir + "/apisix.yaml",
                                                                          atomically: true, encoding: .utf8)
        let serve = try ChildProcess(binary, ["serve", "--config", dir + "/config.yaml"])
        #expect(await serve.wait(timeout: 20) == 1)
        #expect(serve.text.contains("apisix.yaml:3:18: stream_routes[0] (id 1): invalid server_port"), "\(serve.text)")
    }
}

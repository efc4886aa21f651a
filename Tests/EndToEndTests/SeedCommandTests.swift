import Foundation
import LoadBalancing
import ProxyModel
import ProxyTestSupport
import RouteStore
import Testing

/// A default install (the shipped conf/config.yaml: stream 9100, admin 127.0.0.1:9180) driven by the seed's
/// own commands, with real brokers and clients.
@Suite("The seed's curl commands against a default install", .serialized,
       .requires("mosquitto", "mosquitto_pub", "mosquitto_sub", "curl"))
struct SeedCommandTests {
    struct Tools {
        var mosquitto: String
        var pub: String
        var sub: String
        var curl: String
        var binary: String
    }

    func tools() throws -> Tools {
        let t = try ExternalTools.paths(["mosquitto", "mosquitto_pub", "mosquitto_sub", "curl"])
        let binary = try #require(proxyBinary(), "build the mqtt-proxy product first")
        return Tools(mosquitto: t["mosquitto"]!, pub: t["mosquitto_pub"]!, sub: t["mosquitto_sub"]!,
                     curl: t["curl"]!, binary: binary)
    }

    func shell(_ command: String) async throws -> (Int32?, String) {
        let p = try ChildProcess("/bin/sh", ["-c", command])
        let status = await p.wait(timeout: 20)
        return (status, p.text)
    }

    func startServe(_ t: Tools, store: String) async throws -> ChildProcess {
        let config = FileManager.default.currentDirectoryPath + "/conf/config.yaml"
        let serve = try ChildProcess(t.binary, ["serve", "--config", config, "--store", store])
        let ok = await eventually(timeout: 20) { serve.text.contains("ready:") && serve.text.contains("admin API on") }
        #expect(ok, "serve did not start: \(serve.text)")
        return serve
    }

    /// Publishes a retained message through the proxy on 9100.
    func publish(_ t: Tools, clientID: String, topic: String, message: String) async throws -> Int32? {
        let p = try ChildProcess(t.pub, ["-h", "127.0.0.1", "-p", "9100", "-i", clientID, "-t", topic, "-m", message,
                                         "-r", "-q", "1", "-V", "mqttv311"])
        return await p.wait(timeout: 10)
    }

    /// The retained message on `topic` at a broker, read directly (nil when there is none).
    func retained(_ t: Tools, host: String, port: Int, topic: String, seconds: Int = 3) async throws -> String? {
        let s = try ChildProcess(t.sub, ["-h", host, "-p", "\(port)", "-t", topic, "-C", "1", "-W", "\(seconds)"])
        guard await s.wait(timeout: Double(seconds) + 5) == 0 else { return nil }
        return s.text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func theSeedCommandsWorkVerbatimAndChangesAreLive() async throws {
        let t = try tools()
        let rr = try await MosquittoBroker.start(binary: t.mosquitto, host: "127.0.0.1", port: 1980)
        let c1 = try await MosquittoBroker.start(binary: t.mosquitto, host: "127.0.0.1", port: 1995)
        let c2 = try await MosquittoBroker.start(binary: t.mosquitto, host: "127.0.0.2", port: 1995)
        defer { [rr, c1, c2].forEach { $0.stop() } }
        let dir = NSTemporaryDirectory() + "mqtt-proxy-seed-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = dir + "/apisix.yaml"
        let serve = try await startServe(t, store: store)
        defer { serve.stop() }

        // 1. The roundrobin route: clients reach the broker on 1980.
        let (s1, out1) = try await shell(SeedCommands.putRoundRobin)
        #expect(s1 == 0 && out1.contains(#""key":"/apisix/stream_routes/1""#), "\(out1)")
        #expect(try await publish(t, clientID: "rr-client", topic: "seed/rr", message: "via rr") == 0)
        #expect(try await retained(t, host: "127.0.0.1", port: 1980, topic: "seed/rr") == "via rr")
        // A subscriber that stays connected through the proxy across the next change.
        let longLived = try ChildProcess(t.sub, ["-h", "127.0.0.1", "-p", "9100", "-i", "long-lived",
                                                 "-t", "seed/live", "-C", "1", "-W", "30", "-V", "mqttv311"])
        #expect(await eventually { serve.text.contains("client_id=long-lived") }, "\(serve.text)")

        // 2. The chash route: each client id lands where the ring says, without a restart.
        let (s2, out2) = try await shell(SeedCommands.putChash)
        #expect(s2 == 0 && out2.contains(#""type":"chash""#), "\(out2)")
        let ring = ConsistentHashRing(servers: [("127.0.0.1:1995", 1), ("127.0.0.2:1995", 1)])
        let brokers = [c1, c2]
        for id in ["sensor-1", "sensor-2", "sensor-3", "truck-9", "f", "g"] {
            let topic = "seed/chash/\(id)"
            #expect(try await publish(t, clientID: id, topic: topic, message: "from \(id)") == 0)
            let target = brokers[ring.lookup(id)!.node]
            #expect(try await retained(t, host: target.host, port: target.port, topic: topic) == "from \(id)",
                    "\(id) should be on \(target.address)")
        }
        // The connection opened before the change still works: it is still on the 1980 broker.
        let direct = try ChildProcess(t.pub, ["-h", "127.0.0.1", "-p", "1980", "-t", "seed/live", "-m", "still here"])
        #expect(await direct.wait(timeout: 10) == 0)
        #expect(await longLived.wait(timeout: 10) == 0)
        #expect(longLived.text.contains("still here"))

        // Restart: the route written through the API is still there.
        serve.stop()
        let restarted = try await startServe(t, store: store)
        defer { restarted.stop() }
        let (s3, out3) = try await shell("\(t.curl) -s http://127.0.0.1:9180/apisix/admin/stream_routes/1 "
                                         + "-H 'X-API-KEY: edd1c9f034335f136f87ad84b625c8f1'")
        #expect(s3 == 0 && out3.contains(#""key":"mqtt_client_id""#), "\(out3)")

        // 3. Delete: new connections find no route.
        let (s4, out4) = try await shell(SeedCommands.delete)
        #expect(s4 == 0 && out4.contains(#""deleted":"1""#), "\(out4)")
        #expect(try await publish(t, clientID: "late", topic: "seed/late", message: "x") != 0)
        #expect(await eventually { restarted.text.contains("not hit any route") })
    }

    @Test func killDashNineDuringWritesLeavesALoadableStore() async throws {
        let t = try tools()
        let dir = NSTemporaryDirectory() + "mqtt-proxy-kill-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = dir + "/apisix.yaml"
        let serve = try await startServe(t, store: store)
        defer { serve.stop() }
        let body = #"{"plugins":{"mqtt-proxy":{"protocol_level":4}},"upstream":{"nodes":{"127.0.0.1:1883":1}}}"#
        let burst = try ChildProcess("/bin/sh", ["-c", """
            i=0; while [ $i -lt 2000 ]; do i=$((i+1)); \(t.curl) -s -o /dev/null -X PUT \
            http://127.0.0.1:9180/apisix/admin/stream_routes/r$i -H 'X-API-KEY: edd1c9f034335f136f87ad84b625c8f1' \
            -d '\(body)'; done
            """])
        defer { burst.stop() }
        #expect(await eventually(timeout: 20) {
            ((try? String(contentsOfFile: store, encoding: .utf8)) ?? "").components(separatedBy: "create_time").count > 20
        })
        kill(serve.pid, SIGKILL)
        _ = await serve.wait(timeout: 5)
        burst.stop()
        let reloaded = FileStore(path: store)
        try await reloaded.load()
        let count = await reloaded.snapshot().resources.streamRoutes.count
        #expect(count >= 20)
        // The proxy starts again on that file.
        let again = try await startServe(t, store: store)
        again.stop()
    }

    /// The mTLS section: an ssl object with the CA, the server certificate and its SNIs, then the seed's
    /// route with `sni`; mosquitto clients over TLS on the shipped TLS port 9333 need a certificate from
    /// that CA.
    @Test func theSeedMTLSSectionWorksOnTheShippedTLSPort() async throws {
        let t = try tools()
        let broker = try await MosquittoBroker.start(binary: t.mosquitto, host: "127.0.0.1", port: 1980)
        defer { broker.stop() }
        let dir = NSTemporaryDirectory() + "mqtt-proxy-seed-tls-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ca = try TestCA.root("seed CA")
        let server = try ca.issue(cn: "localhost", dns: ["localhost"], ips: ["127.0.0.1"])
        let device = try ca.issue(cn: "seed-device")
        try ca.cert.write(toFile: dir + "/ca.crt", atomically: true, encoding: .utf8)
        let (certPath, keyPath) = try device.write(to: dir, name: "device")
        let ssl: JSONValue = ["cert": .string(server.cert), "key": .string(server.key), "snis": ["localhost"],
                              "client": ["ca": .string(ca.cert), "depth": 1]]
        try ssl.jsonText.write(toFile: dir + "/ssl.json", atomically: true, encoding: .utf8)
        let serve = try await startServe(t, store: dir + "/apisix.yaml")
        defer { serve.stop() }
        #expect(serve.text.contains("9333 (TLS)"), "\(serve.text)")

        let (s1, out1) = try await shell("\(t.curl) -s http://127.0.0.1:9180/apisix/admin/ssls/1 "
                                         + "-H 'X-API-KEY: edd1c9f034335f136f87ad84b625c8f1' -X PUT -d @\(dir)/ssl.json")
        #expect(s1 == 0 && out1.contains(#""snis":["localhost"]"#) && !out1.contains("PRIVATE KEY"), "\(out1)")
        let (s2, out2) = try await shell(SeedCommands.putMTLSRoute(sni: "localhost"))
        #expect(s2 == 0 && out2.contains(#""sni":"localhost""#), "\(out2)")

        let tlsArgs = ["-h", "localhost", "-p", "9333", "--cafile", dir + "/ca.crt", "-V", "mqttv311"]
        for version in ["tlsv1.2", "tlsv1.3"] {
            let pub = try ChildProcess(t.pub, tlsArgs + ["--cert", certPath, "--key", keyPath, "--tls-version", version,
                                                        "-i", "seed-\(version)", "-t", "seed/tls/\(version)",
                                                        "-m", "over \(version)", "-r", "-q", "1"])
            #expect(await pub.wait(timeout: 10) == 0, "\(pub.text)")
            #expect(try await retained(t, host: "127.0.0.1", port: 1980, topic: "seed/tls/\(version)") == "over \(version)")
        }
        #expect(await eventually { serve.text.contains("client_cn=seed-device") }, "\(serve.text)")
        // Without a client certificate the handshake is refused, and the log says why.
        let anonymous = try ChildProcess(t.pub, tlsArgs + ["-i", "anon", "-t", "seed/tls/anon", "-m", "x", "-q", "1"])
        #expect(await anonymous.wait(timeout: 10) != 0)
        #expect(await eventually { serve.text.contains("tls_client_certificate") }, "\(serve.text)")
        #expect(try await retained(t, host: "127.0.0.1", port: 1980, topic: "seed/tls/anon", seconds: 1) == nil)
        // Plaintext clients on 9100 do not match the route with an sni.
        #expect(try await publish(t, clientID: "plain", topic: "seed/plain", message: "x") != 0)
    }
}

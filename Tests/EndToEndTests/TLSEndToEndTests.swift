import Foundation
import LoadBalancing
import NIOPosix
import ProxyEngine
import ProxyModel
import ProxyTestSupport
import Testing

/// TLS end to end with real programs: mosquitto_pub / mosquitto_sub and a Python `ssl` client through TLS
/// listeners of the proxy (mTLS, SNI routes), and the proxy speaking TLS to mosquitto brokers with TLS listeners.
@Suite("End to end over TLS with mosquitto and Python", .serialized)
struct TLSEndToEndTests {
    // MARK: - Helpers

    /// A temp folder removed at the end of the test.
    final class Folder: Sendable {
        let path: String
        init() throws {
            path = NSTemporaryDirectory() + "mqtt-proxy-tls-e2e-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        }

        @discardableResult
        func write(_ text: String, _ name: String) throws -> String {
            let file = "\(path)/\(name)"
            try text.write(toFile: file, atomically: true, encoding: .utf8)
            return file
        }

        func remove() { try? FileManager.default.removeItem(atPath: path) }
    }

    /// Polls `condition` every 20 ms until it holds or `timeout` seconds pass.
    static func waitFor(_ timeout: Double, _ condition: () -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            try? await Task.sleep(nanoseconds: 20_000_000)
        }
        return condition()
    }

    /// Runs `body`, then `cleanup` whether or not it threw.
    static func run(_ body: () async throws -> Void, cleanup: () async -> Void) async throws {
        do {
            try await body()
        } catch {
            await cleanup()
            throw error
        }
        await cleanup()
    }

    /// Where APISIX's ring puts `key` among `brokers`.
    static func predicted(_ key: String, _ brokers: [MosquittoBroker]) -> MosquittoBroker {
        let ring = ConsistentHashRing(servers: brokers.map { ($0.address, 1) })
        return brokers[ring.lookup(key)!.node]
    }

    /// The first of `prefix-0`, `prefix-1`, … that the ring puts on `broker`.
    static func clientID(prefix: String, on broker: MosquittoBroker, _ brokers: [MosquittoBroker]) -> String {
        (0..<1000).map { "\(prefix)-\($0)" }.first { predicted($0, brokers).port == broker.port }!
    }

    /// A client id the ring puts on the same broker as `key`.
    static func companion(of key: String, prefix: String, _ brokers: [MosquittoBroker]) -> String {
        clientID(prefix: prefix, on: predicted(key, brokers), brokers)
    }

    /// Whether mosquitto's verbose log shows `clientID` connecting to `broker`.
    static func connected(_ clientID: String, to broker: MosquittoBroker) -> Bool {
        broker.child.text.contains(" as \(clientID) (")
    }

    /// Whether `broker` has received a SUBSCRIBE from `clientID`.
    static func subscribed(_ clientID: String, on broker: MosquittoBroker) -> Bool {
        broker.child.text.contains("Received SUBSCRIBE from \(clientID)")
    }

    /// A stream route with the mqtt-proxy plugin (MQTT 3.1.1) over `brokers`.
    static func route(_ brokers: [MosquittoBroker], type: String = "chash", sni: String? = nil,
                      upstreamExtra: [String: JSONValue] = [:]) -> JSONValue
    {
        var upstream: JSONValue = [
            "type": .string(type),
            "nodes": .array(brokers.map { ["host": .string($0.host), "port": .int($0.port), "weight": 1] }),
        ]
        if type == "chash" { upstream["key"] = "mqtt_client_id" }
        for (k, v) in upstreamExtra { upstream[k] = v }
        var route: JSONValue = [
            "plugins": ["mqtt-proxy": ["protocol_name": "MQTT", "protocol_level": 4]],
            "upstream": upstream,
        ]
        if let sni { route["sni"] = .string(sni) }
        return route
    }

    /// Resources with the given routes and ssl objects.
    static func resources(routes: [(String, JSONValue)], ssls: [(String, JSONValue)] = []) throws -> ProxyResources {
        var r = try ProxyResources.with(routes: routes)
        for (i, (id, body)) in ssls.enumerated() { _ = try r.put(kind: .ssls, id: id, json: body, index: 100 + i) }
        return r
    }

    // MARK: - 1. mosquitto clients, mTLS on the proxy's listener, plain brokers

    @Test(.requires("mosquitto", "mosquitto_pub", "mosquitto_sub"), arguments: ["tlsv1.2", "tlsv1.3"])
    func mosquittoClientsWithMutualTLSLandOnThePredictedBrokerAndMessagesRoundTrip(tlsVersion: String) async throws {
        let tools = try ExternalTools.paths(["mosquitto", "mosquitto_pub", "mosquitto_sub"])
        let expectedVersion = tlsVersion == "tlsv1.2" ? "TLSv1.2" : "TLSv1.3"
        try await withEventLoopGroup { group in
            let folder = try Folder()
            let ca = try TestCA.root("mqtt-proxy e2e root")
            let server = try ca.issue(cn: "localhost", dns: ["localhost"], ips: ["127.0.0.1"])
            let device = try ca.issue(cn: "device-e2e", dns: ["device-e2e.fleet.test"])
            let caFile = try folder.write(ca.cert, "ca.crt")
            let deviceFiles = try device.write(to: folder.path, name: "client")
            var brokers: [MosquittoBroker] = []
            var proxy: ProxyHarness?
            var children: [ChildProcess] = []
            try await Self.run {
                for _ in 0..<3 { brokers.append(try await MosquittoBroker.start(binary: tools["mosquitto"]!)) }
                // mosquitto 2.0's `--tls-version tlsv1.2` is only a floor (it still offers TLS 1.3), so the ssl
                // object pins the version the run is about.
                let ssl: JSONValue = [
                    "cert": .string(server.cert), "key": .string(server.key), "snis": ["localhost"],
                    "client": ["ca": .string(ca.cert), "depth": 1], "ssl_protocols": [.string(expectedVersion)],
                ]
                let p = try await ProxyHarness.start(
                    resources: try Self.resources(routes: [("mtls", Self.route(brokers))], ssls: [("srv", ssl)]),
                    group: group, tls: true)
                proxy = p
                let tlsArgs = ["-h", "localhost", "-p", "\(p.port)", "-V", "mqttv311", "--cafile", caFile,
                               "--tls-version", tlsVersion]
                let certArgs = ["--cert", deviceFiles.cert, "--key", deviceFiles.key]
                let v = tlsVersion.replacingOccurrences(of: ".", with: "")

                // A subscriber through the proxy (TLS, client certificate) and one straight on the broker the
                // ring predicts for it; then a publisher through the proxy whose id the ring puts there too.
                let subID = "tls-sub-\(v)"
                let target = Self.predicted(subID, brokers)
                let topic = "e2e-tls/\(v)/live"
                let viaProxy = try ChildProcess(tools["mosquitto_sub"]!, tlsArgs + certArgs
                    + ["-i", subID, "-t", topic, "-C", "1", "-W", "20"])
                let direct = try ChildProcess(tools["mosquitto_sub"]!, [
                    "-h", "127.0.0.1", "-p", "\(target.port)", "-V", "mqttv311", "-i", "direct-\(v)", "-t", topic,
                    "-C", "1", "-W", "20",
                ])
                children += [viaProxy, direct]
                let bothSubscribed = await Self.waitFor(15) {
                    Self.subscribed(subID, on: target) && Self.subscribed("direct-\(v)", on: target)
                }
                try #require(bothSubscribed,
                             "subscribers did not reach \(target.address); mosquitto_sub said: \(viaProxy.text)")

                // While the subscriber is connected the registry shows its TLS details and the predicted node.
                let info = try #require(p.engine.snapshot().connections.first { $0.clientID == subID })
                #expect(info.node == target.address, "TLS must not change placement")
                let details = try #require(info.tls)
                #expect(details.version == expectedVersion)
                #expect(details.sni == "localhost")
                #expect(details.sslID == "srv")
                #expect(details.clientCN == "device-e2e")
                #expect(details.clientSANs == ["DNS:device-e2e.fleet.test"])

                let pubID = Self.companion(of: subID, prefix: "tls-pub-\(v)", brokers)
                let publisher = try ChildProcess(tools["mosquitto_pub"]!, tlsArgs + certArgs
                    + ["-i", pubID, "-t", topic, "-m", "over \(expectedVersion)", "-q", "1"])
                children.append(publisher)
                #expect(await publisher.wait(timeout: 15) == 0, "mosquitto_pub said: \(publisher.text)")
                #expect(await viaProxy.wait(timeout: 15) == 0, "mosquitto_sub via the proxy said: \(viaProxy.text)")
                #expect(viaProxy.text.trimmingCharacters(in: .whitespacesAndNewlines) == "over \(expectedVersion)")
                #expect(await direct.wait(timeout: 15) == 0, "mosquitto_sub on the broker said: \(direct.text)")
                #expect(direct.text.trimmingCharacters(in: .whitespacesAndNewlines) == "over \(expectedVersion)")
                #expect(Self.connected(pubID, to: target))

                // More client ids: each one lands on the broker the ring predicts, as the broker itself logs. The
                // ports are random, so ids are added until every broker has one.
                var ids = ["sensor-0001", "sensor-0042", "truck-eu-17", "meter/7", "f", "g"].map { "\($0)-\(v)" }
                for broker in brokers where !ids.contains(where: { Self.predicted($0, brokers).port == broker.port }) {
                    ids.append(Self.clientID(prefix: "extra-\(v)", on: broker, brokers))
                }
                var used: Set<Int> = []
                for id in ids {
                    let pub = try ChildProcess(tools["mosquitto_pub"]!, tlsArgs + certArgs
                        + ["-i", id, "-t", "e2e-tls/\(v)/placed", "-m", id, "-q", "1"])
                    children.append(pub)
                    #expect(await pub.wait(timeout: 15) == 0, "mosquitto_pub as \(id) said: \(pub.text)")
                    let broker = Self.predicted(id, brokers)
                    used.insert(broker.port)
                    #expect(Self.connected(id, to: broker), "\(id) should be on \(broker.address)")
                    for other in brokers where other.port != broker.port {
                        #expect(!Self.connected(id, to: other), "\(id) leaked to \(other.address)")
                    }
                    let event = p.engine.snapshot().events.last { $0.kind == .connected && $0.clientID == id }
                    #expect(event?.node == broker.address)
                }
                #expect(used.count == brokers.count, "the ids should use every broker")

                // Without a client certificate the handshake is refused and counted; no broker sees the client.
                let noCert = try ChildProcess(tools["mosquitto_pub"]!, tlsArgs
                    + ["-i", "no-cert-\(v)", "-t", "e2e-tls/x", "-m", "x", "-q", "1"])
                children.append(noCert)
                let status = await noCert.wait(timeout: 15)
                #expect(status != nil && status != 0,
                        "mosquitto_pub without a certificate exited \(String(describing: status)): \(noCert.text)")
                let counted = await Self.waitFor(5) {
                    p.engine.snapshot().rejectedByReason[.tlsClientCertificate] == 1
                }
                #expect(counted, "rejections: \(p.engine.snapshot().rejectedByReason)")
                let message = p.engine.snapshot().events.last { $0.kind == .rejected }?.message ?? ""
                #expect(message.contains("no certificate"), "rejection said: \(message)")
                #expect(brokers.allSatisfy { !Self.connected("no-cert-\(v)", to: $0) })
                #expect(p.engine.snapshot().totalRejected == 1)
            } cleanup: {
                for c in children { c.stop() }
                await proxy?.stop()
                for b in brokers { b.stop() }
                folder.remove()
            }
        }
    }

    // MARK: - 2. Python ssl client: SNI picks the certificate and the route

    /// Connects once per `sni=clientid[=1.2]` argument (TLS, verifying the proxy against the CA and the SNI),
    /// sends an MQTT 3.1.1 CONNECT and reads the CONNACK; prints one OK/FAIL line each, touches the ready file,
    /// keeps the connections open until the done file appears, then sends DISCONNECT.
    static let pythonClient = #"""
    import os, socket, ssl, sys, time

    ca, port, ready, done = sys.argv[1:5]

    def connect_packet(client_id):
        cid = client_id.encode()
        body = b"\x00\x04MQTT" + bytes([4, 0x02, 0, 60]) + len(cid).to_bytes(2, "big") + cid
        return bytes([0x10, len(body)]) + body

    def read_exactly(sock, n):
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            if not chunk:
                break
            data += chunk
        return data

    open_sockets = []
    for arg in sys.argv[5:]:
        parts = arg.split("=")
        sni, client_id = parts[0], parts[1]
        ctx = ssl.create_default_context(cafile=ca)
        if len(parts) > 2 and parts[2] == "1.2":
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        try:
            raw = socket.create_connection(("127.0.0.1", int(port)), timeout=10)
            sock = ctx.wrap_socket(raw, server_hostname=sni)
            sock.sendall(connect_packet(client_id))
            connack = read_exactly(sock, 4)
            subject = dict(item[0] for item in sock.getpeercert()["subject"])
            print("OK %s %s %s cn=%s connack=%s" % (sni, client_id, sock.version(), subject.get("commonName"),
                                                    connack.hex()), flush=True)
            open_sockets.append(sock)
        except Exception as e:
            refused = isinstance(e, (ssl.SSLError, ConnectionResetError, BrokenPipeError))
            kind = "refused" if refused else "other-error"
            print("FAIL %s %s %s %s: %s" % (sni, client_id, kind, type(e).__name__, e), flush=True)

    open(ready, "w").close()
    deadline = time.time() + 30
    while not os.path.exists(done) and time.time() < deadline:
        time.sleep(0.02)
    for sock in open_sockets:
        sock.sendall(b"\xe0\x00")
        sock.close()
    """#

    @Test(.requires("mosquitto", "python3")) func pythonClientsReachTheRouteTheirSNINames() async throws {
        let tools = try ExternalTools.paths(["mosquitto", "python3"])
        try await withEventLoopGroup { group in
            let folder = try Folder()
            let ca = try TestCA.root("mqtt-proxy e2e root")
            let exact = try ca.issue(cn: "a.mqtt.test", dns: ["a.mqtt.test"])
            let wildcard = try ca.issue(cn: "fleet wildcard", dns: ["*.fleet.test"])
            let caFile = try folder.write(ca.cert, "ca.crt")
            let script = try folder.write(Self.pythonClient, "client.py")
            var brokers: [MosquittoBroker] = []
            var proxy: ProxyHarness?
            var python: ChildProcess?
            try await Self.run {
                for _ in 0..<2 { brokers.append(try await MosquittoBroker.start(binary: tools["mosquitto"]!)) }
                let (a, fleet) = (brokers[0], brokers[1])
                let p = try await ProxyHarness.start(
                    resources: try Self.resources(
                        routes: [("a", Self.route([a], sni: "a.mqtt.test")),
                                 ("fleet", Self.route([fleet], sni: "*.fleet.test"))],
                        ssls: [("a", ["cert": .string(exact.cert), "key": .string(exact.key), "snis": ["a.mqtt.test"]]),
                               ("fleet", ["cert": .string(wildcard.cert), "key": .string(wildcard.key),
                                          "snis": ["*.fleet.test"]])]),
                    group: group, tls: true)
                proxy = p
                let ready = "\(folder.path)/ready", done = "\(folder.path)/done"
                let py = try ChildProcess(tools["python3"]!, [
                    script, caFile, "\(p.port)", ready, done,
                    "a.mqtt.test=py-a", "truck-9.fleet.test=py-truck", "b.fleet.test=py-old=1.2",
                    "other.mqtt.test=py-none", "x.y.fleet.test=py-deep",
                ])
                python = py
                let isReady = await Self.waitFor(30) { FileManager.default.fileExists(atPath: ready) || !py.isRunning }
                try #require(isReady && FileManager.default.fileExists(atPath: ready), "python said: \(py.text)")
                let lines = py.text.split(separator: "\n").map(String.init)

                // What the client saw: the certificate for its SNI, and a CONNACK (accepted) from a broker.
                #expect(lines.contains("OK a.mqtt.test py-a TLSv1.3 cn=a.mqtt.test connack=20020000"), "\(lines)")
                #expect(lines.contains("OK truck-9.fleet.test py-truck TLSv1.3 cn=fleet wildcard connack=20020000"),
                        "\(lines)")
                #expect(lines.contains("OK b.fleet.test py-old TLSv1.2 cn=fleet wildcard connack=20020000"), "\(lines)")
                // No ssl object covers these names (a wildcard covers one label only): the handshake fails.
                #expect(lines.contains { $0.hasPrefix("FAIL other.mqtt.test py-none refused") }, "\(lines)")
                #expect(lines.contains { $0.hasPrefix("FAIL x.y.fleet.test py-deep refused") }, "\(lines)")

                // What the proxy and the brokers saw: the SNI chose the route, and so the broker.
                let snap = p.engine.snapshot()
                let expected: [(String, String, MosquittoBroker, String, String)] = [
                    ("py-a", "a", a, "a.mqtt.test", "TLSv1.3"),
                    ("py-truck", "fleet", fleet, "truck-9.fleet.test", "TLSv1.3"),
                    ("py-old", "fleet", fleet, "b.fleet.test", "TLSv1.2"),
                ]
                for (clientID, routeID, broker, sni, version) in expected {
                    let info = snap.connections.first { $0.clientID == clientID }
                    #expect(info?.routeID == routeID, "\(clientID)")
                    #expect(info?.node == broker.address, "\(clientID)")
                    #expect(info?.tls?.sni == sni, "\(clientID)")
                    #expect(info?.tls?.sslID == routeID, "\(clientID)")
                    #expect(info?.tls?.version == version, "\(clientID)")
                    #expect(info?.tls?.clientCN == nil, "\(clientID)")
                    #expect(Self.connected(clientID, to: broker), "\(clientID) should be on \(broker.address)")
                    for other in brokers where other.port != broker.port {
                        #expect(!Self.connected(clientID, to: other), "\(clientID) leaked to \(other.address)")
                    }
                }
                #expect(snap.connections.count == 3)
                #expect(snap.rejectedByReason[.tlsNoCertificate] == 2, "\(snap.rejectedByReason)")
                for name in ["other.mqtt.test", "x.y.fleet.test"] {
                    #expect(snap.events.contains { $0.kind == .rejected && $0.message.contains(name) }, "\(name)")
                }

                try "".write(toFile: done, atomically: true, encoding: .utf8)
                #expect(await py.wait(timeout: 10) == 0, "python said: \(py.text)")
                let drained = await Self.waitFor(5) { p.engine.snapshot().connections.isEmpty }
                #expect(drained)
                for (clientID, _, broker, _, _) in expected {
                    #expect(await Self.waitFor(5) { broker.child.text.contains("Received DISCONNECT from \(clientID)") },
                            "\(clientID)'s DISCONNECT should reach \(broker.address)")
                }
            } cleanup: {
                python?.stop()
                await proxy?.stop()
                for b in brokers { b.stop() }
                folder.remove()
            }
        }
    }

    // MARK: - 3. TLS from the proxy to mosquitto brokers with TLS listeners

    /// Certificates for TLS brokers: the CA, the brokers' certificate, and the proxy's client certificate.
    struct BrokerPKI {
        let ca: TestCA
        let broker: IssuedCertificate
        let proxyClient: IssuedCertificate
        let folder: Folder
        let caFile: String

        init() throws {
            ca = try TestCA.root("mqtt-proxy e2e broker root")
            broker = try ca.issue(cn: "broker", dns: ["localhost"], ips: ["127.0.0.1"])
            proxyClient = try ca.issue(cn: "mqtt-proxy")
            folder = try Folder()
            caFile = try folder.write(ca.cert, "ca.crt")
        }

        var brokerTLS: MosquittoBroker.TLS {
            MosquittoBroker.TLS(ca: ca.cert, cert: broker.cert, key: broker.key, requireCertificate: true)
        }

        func upstreamTLS(clientCert: Bool) -> [String: JSONValue] {
            var tls: JSONValue = ["verify": true]
            if clientCert {
                tls["client_cert"] = .string(proxyClient.cert)
                tls["client_key"] = .string(proxyClient.key)
            }
            return ["scheme": "tls", "tls": tls]
        }
    }

    @Test(.requires("mosquitto", "mosquitto_pub", "mosquitto_sub"))
    func plaintextClientsReachTLSBrokersThroughTheProxy() async throws {
        let tools = try ExternalTools.paths(["mosquitto", "mosquitto_pub", "mosquitto_sub"])
        try await withEventLoopGroup { group in
            let pki = try BrokerPKI()
            let proxyFiles = try pki.proxyClient.write(to: pki.folder.path, name: "proxy-client")
            var brokers: [MosquittoBroker] = []
            var proxy: ProxyHarness?
            var children: [ChildProcess] = []
            try await Self.run {
                for _ in 0..<2 {
                    brokers.append(try await MosquittoBroker.start(binary: tools["mosquitto"]!, tls: pki.brokerTLS))
                }
                var settings = EngineSettings()
                settings.tls.trustedCertificateFile = pki.caFile
                let route = Self.route(brokers, upstreamExtra: pki.upstreamTLS(clientCert: true))
                let p = try await ProxyHarness.start(resources: try Self.resources(routes: [("tls-up", route)]),
                                                     settings: settings, group: group)
                proxy = p
                let plainArgs = ["-h", "127.0.0.1", "-p", "\(p.port)", "-V", "mqttv311"]

                // A plaintext subscriber through the proxy, and a TLS one straight on the predicted broker.
                let subID = "plain-sub"
                let target = Self.predicted(subID, brokers)
                let topic = "e2e-tls/upstream"
                let viaProxy = try ChildProcess(tools["mosquitto_sub"]!, plainArgs
                    + ["-i", subID, "-t", topic, "-C", "1", "-W", "20"])
                let direct = try ChildProcess(tools["mosquitto_sub"]!, [
                    "-h", "127.0.0.1", "-p", "\(target.port)", "-V", "mqttv311", "--cafile", pki.caFile,
                    "--cert", proxyFiles.cert, "--key", proxyFiles.key, "-i", "direct-tls", "-t", topic,
                    "-C", "1", "-W", "20",
                ])
                children += [viaProxy, direct]
                let bothSubscribed = await Self.waitFor(15) {
                    Self.subscribed(subID, on: target) && Self.subscribed("direct-tls", on: target)
                }
                try #require(bothSubscribed, """
                    subscribers did not reach \(target.address); via proxy: \(viaProxy.text) direct: \(direct.text) \
                    broker: \(target.child.text)
                    """)
                let info = try #require(p.engine.snapshot().connections.first { $0.clientID == subID })
                #expect(info.node == target.address, "TLS to the broker must not change placement")
                #expect(info.tls == nil, "the client side is plaintext")

                let pubID = Self.companion(of: subID, prefix: "plain-pub", brokers)
                let publisher = try ChildProcess(tools["mosquitto_pub"]!, plainArgs
                    + ["-i", pubID, "-t", topic, "-m", "through TLS to the broker", "-q", "1"])
                children.append(publisher)
                #expect(await publisher.wait(timeout: 15) == 0, "mosquitto_pub said: \(publisher.text)")
                #expect(await viaProxy.wait(timeout: 15) == 0, "mosquitto_sub via the proxy said: \(viaProxy.text)")
                #expect(viaProxy.text.trimmingCharacters(in: .whitespacesAndNewlines) == "through TLS to the broker")
                #expect(await direct.wait(timeout: 15) == 0, "mosquitto_sub on the broker said: \(direct.text)")
                #expect(direct.text.trimmingCharacters(in: .whitespacesAndNewlines) == "through TLS to the broker")
                #expect(Self.connected(pubID, to: target))
                for other in brokers where other.port != target.port {
                    #expect(!Self.connected(subID, to: other) && !Self.connected(pubID, to: other))
                }
                let snap = p.engine.snapshot()
                #expect(snap.totalRejected == 0)
                #expect(snap.nodes.allSatisfy { $0.connectFailures == 0 }, "\(snap.nodes)")
            } cleanup: {
                for c in children { c.stop() }
                await proxy?.stop()
                for b in brokers { b.stop() }
                pki.folder.remove()
            }
        }
    }

    @Test(.requires("mosquitto", "mosquitto_pub"))
    func brokerVerificationAndTheProxysClientCertificateAreEnforced() async throws {
        let tools = try ExternalTools.paths(["mosquitto", "mosquitto_pub"])
        try await withEventLoopGroup { group in
            let pki = try BrokerPKI()
            var broker: MosquittoBroker?
            var proxies: [ProxyHarness] = []
            var children: [ChildProcess] = []
            try await Self.run {
                let b = try await MosquittoBroker.start(binary: tools["mosquitto"]!, tls: pki.brokerTLS)
                broker = b

                // Without the CA the broker's certificate does not verify: the client is refused, nothing reaches
                // mosquitto as an MQTT client.
                let untrusting = try await ProxyHarness.start(
                    resources: try Self.resources(
                        routes: [("r", Self.route([b], upstreamExtra: pki.upstreamTLS(clientCert: true)))]),
                    group: group)
                proxies.append(untrusting)
                let p1 = try ChildProcess(tools["mosquitto_pub"]!, ["-h", "127.0.0.1", "-p", "\(untrusting.port)",
                                                                   "-i", "unverified", "-t", "x", "-m", "x", "-q", "1"])
                children.append(p1)
                let s1 = await p1.wait(timeout: 15)
                #expect(s1 != nil && s1 != 0, "mosquitto_pub exited \(String(describing: s1)): \(p1.text)")
                let failed = await Self.waitFor(5) {
                    untrusting.engine.snapshot().events.contains {
                        $0.message.contains("TLS handshake with the broker failed")
                            && $0.message.contains("CERTIFICATE_VERIFY_FAILED")
                    }
                }
                #expect(failed, "events: \(untrusting.engine.snapshot().events.map(\.message))")
                #expect(!Self.connected("unverified", to: b))

                // With the CA but without a client certificate, mosquitto (require_certificate) refuses the proxy.
                var settings = EngineSettings()
                settings.tls.trustedCertificateFile = pki.caFile
                let anonymous = try await ProxyHarness.start(
                    resources: try Self.resources(
                        routes: [("r", Self.route([b], upstreamExtra: pki.upstreamTLS(clientCert: false)))]),
                    settings: settings, group: group)
                proxies.append(anonymous)
                let p2 = try ChildProcess(tools["mosquitto_pub"]!, ["-h", "127.0.0.1", "-p", "\(anonymous.port)",
                                                                   "-i", "no-proxy-cert", "-t", "x", "-m", "x", "-q", "1"])
                children.append(p2)
                let s2 = await p2.wait(timeout: 15)
                #expect(s2 != nil && s2 != 0, "mosquitto_pub exited \(String(describing: s2)): \(p2.text)")
                #expect(await Self.waitFor(5) { b.child.text.contains("peer did not return a certificate") },
                        "broker said: \(b.child.text)")
                #expect(!Self.connected("no-proxy-cert", to: b))
                // With TLS 1.3 the proxy's side of the handshake completes before mosquitto checks the certificate,
                // so the refusal arrives as the broker's certificate_required alert on the relay (with TLS 1.2 it
                // would fail the handshake itself).
                #expect(await Self.waitFor(5) {
                    anonymous.engine.snapshot().events.contains {
                        $0.message.contains("CERTIFICATE_REQUIRED")
                            || $0.message.contains("TLS handshake with the broker failed")
                    }
                }, "events: \(anonymous.engine.snapshot().events.map(\.message))")
            } cleanup: {
                for c in children { c.stop() }
                for p in proxies { await p.stop() }
                broker?.stop()
                pki.folder.remove()
            }
        }
    }
}

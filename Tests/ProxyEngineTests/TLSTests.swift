import Foundation
import NIOCore
import NIOPosix
import NIOSSL
@testable import ProxyEngine
import ProxyModel
import ProxyTestSupport
import Testing


@Suite("TLS listeners: certificates by SNI, mTLS, SNI routes, live changes, TLS to brokers")
struct TLSTests {
    let pki = TLSFixture.shared

    /// Opens a TLS client, sends a CONNECT for `clientID`, and returns the client and the node it reached.
    private func connect(_ proxy: ProxyHarness, _ options: TLSClientOptions, clientID: String = "dev-1") async throws
        -> TestClient
    {
        let client = try await proxy.client(tls: options)
        // With TLS 1.3 the client's handshake ends before the proxy has checked its certificate: a refused client
        // may find the connection closed by the time it sends (the test then checks the close).
        if await client.waitForHandshake() {
            try? await client.send(ConnectBytes.make(clientID: clientID))
        }
        return client
    }

    @Test func theRightClientCertificatePassesAndIsRecorded() async throws {
        try await withEventLoopGroup { group in
            let node = try await RecordingUpstream.start(group: group)
            let resources = try ProxyResources.with(
                ssls: pki.ssls(), routes: [("r1", mqttRoute(nodes: [node], extra: ["sni": "mqtt.example.com"]))])
            let proxy = try await ProxyHarness.start(resources: resources, group: group, tls: true)
            let client = try await connect(proxy, pki.options(sni: "mqtt.example.com").with(pki.client))
            #expect(await client.waitForBytes(11) == Array("hello world".utf8))
            #expect(try await client.serverCertificateCN() == "mqtt.example.com")
            #expect(node.clientIDs == ["dev-1"])
            let info = try #require(proxy.engine.snapshot().connections.first)
            let tls = try #require(info.tls)
            #expect(tls.version == "TLSv1.3")
            #expect(tls.sni == "mqtt.example.com")
            #expect(tls.sslID == "1")
            #expect(tls.clientCN == "device-7")
            #expect(tls.clientSANs == ["DNS:device-7.fleet.example.com"])
            #expect(proxy.engine.snapshot().tlsHandshakes == 1)
            await client.close()
            await proxy.stop()
            await node.stop()
        }
    }

    @Test(arguments: ["none", "foreign", "expired"])
    func mTLSRefusesBadClientCertificates(_ kind: String) async throws {
        try await withEventLoopGroup { group in
            let node = try await RecordingUpstream.start(group: group)
            let resources = try ProxyResources.with(
                ssls: pki.ssls(), routes: [("r1", mqttRoute(nodes: [node], extra: ["sni": "mqtt.example.com"]))])
            let proxy = try await ProxyHarness.start(resources: resources, group: group, tls: true)
            var options = pki.options(sni: "mqtt.example.com")
            switch kind {
            case "foreign": options = options.with(pki.foreignClient)
            case "expired": options = options.with(pki.expiredClient)
            default: break
            }
            let client = try await proxy.client(tls: options)
            // TLS 1.3 clients finish before the server checks their certificate; the server's alert follows.
            _ = await client.waitForHandshake()
            try? await client.send(ConnectBytes.make(clientID: "dev-1"))
            #expect(await client.waitForClose())
            #expect(node.clientIDs.isEmpty)
            let snap = proxy.engine.snapshot()
            #expect(snap.connections.isEmpty)
            #expect(snap.rejectedByReason[.tlsClientCertificate] == 1)
            let message = try #require(snap.events.last { $0.kind == .rejected }?.message)
            switch kind {
            case "none": #expect(message.contains("no certificate"))
            case "foreign": #expect(message.contains("does not chain to client.ca of ssl 1"))
            default: #expect(message.contains("expired"))
            }
            await client.close()
            await proxy.stop()
            await node.stop()
        }
    }

    @Test func clientDepthLimitsTheChain() async throws {
        try await withEventLoopGroup { group in
            let node = try await RecordingUpstream.start(group: group)
            let chainPEM = pki.deepClient.chain(with: [pki.intermediate.issued])
            var options = pki.options(sni: "mqtt.example.com")
            options.cert = chainPEM
            options.key = pki.deepClient.key
            for (depth, passes) in [(1, false), (2, true)] {
                let resources = try ProxyResources.with(
                    ssls: pki.ssls(depth: depth), routes: [("r1", mqttRoute(nodes: [node], extra: ["sni": "mqtt.example.com"]))])
                let proxy = try await ProxyHarness.start(resources: resources, group: group, tls: true)
                let client = try await connect(proxy, options)
                if passes {
                    #expect(await client.waitForBytes(11) == Array("hello world".utf8), "depth \(depth)")
                } else {
                    #expect(await client.waitForClose(), "depth \(depth)")
                    let message = proxy.engine.snapshot().events.last { $0.kind == .rejected }?.message ?? ""
                    #expect(message.contains("deeper than client.depth 1"))
                }
                await client.close()
                await proxy.stop()
            }
            await node.stop()
        }
    }

    @Test func sniPicksCertificateAndRouteExactBeforeWildcardThenPlainRoutes() async throws {
        try await withEventLoopGroup { group in
            let exact = try await RecordingUpstream.start(group: group)
            let wild = try await RecordingUpstream.start(group: group)
            let plain = try await RecordingUpstream.start(group: group)
            let resources = try ProxyResources.with(ssls: pki.ssls(mtls: false), routes: [
                ("plain", mqttRoute(nodes: [plain])),
                ("wild", mqttRoute(nodes: [wild], extra: ["sni": "*.fleet.example.com"])),
                ("exact", mqttRoute(nodes: [exact], extra: ["sni": "mqtt.example.com"])),
            ])
            let proxy = try await ProxyHarness.start(resources: resources, group: group, tls: true)
            let cases: [(String, String, RecordingUpstream, String)] = [
                ("mqtt.example.com", "mqtt.example.com", exact, "exact"),
                ("truck-9.fleet.example.com", "fleet wildcard", wild, "wild"),
                ("broker.example.com", "mqtt.example.com", plain, "plain"),
            ]
            for (i, (sni, cn, node, routeID)) in cases.enumerated() {
                let client = try await connect(proxy, pki.options(sni: sni), clientID: "c\(i)")
                #expect(await client.waitForBytes(11) == Array("hello world".utf8), "\(sni)")
                #expect(try await client.serverCertificateCN() == cn, "\(sni)")
                #expect(node.clientIDs.contains("c\(i)"), "\(sni)")
                #expect(proxy.engine.snapshot().connections.first { $0.clientID == "c\(i)" }?.routeID == routeID)
                await client.close()
            }
            // An SNI no ssl object covers fails the handshake, named in the log; a wildcard covers one label only.
            for sni in ["other.example.org", "a.b.fleet.example.com"] {
                let unknown = try await proxy.client(tls: pki.options(sni: sni))
                #expect(await unknown.waitForHandshake() == false)
                #expect(unknown.received.error?.contains("UNRECOGNIZED_NAME") == true, "\(unknown.received.error ?? "-")")
                #expect(proxy.engine.snapshot().events.last { $0.kind == .rejected }?.message.contains(sni) == true)
            }
            #expect(proxy.engine.snapshot().rejectedByReason[.tlsNoCertificate] == 2)
            await proxy.stop()
            for n in [exact, wild, plain] { await n.stop() }
        }
    }

    @Test func noSNIUsesFallbackSNIOrFailsWithAClearReason() async throws {
        try await withEventLoopGroup { group in
            let node = try await RecordingUpstream.start(group: group)
            let resources = try ProxyResources.with(ssls: pki.ssls(mtls: false), routes: [("r", mqttRoute(nodes: [node]))])
            let refusing = try await ProxyHarness.start(resources: resources, group: group, tls: true)
            let c1 = try await refusing.client(tls: pki.options(sni: nil))
            #expect(await c1.waitForHandshake() == false)
            #expect(refusing.engine.snapshot().events.last?.message.contains("fallback_sni is not set") == true)
            await refusing.stop()

            var settings = EngineSettings()
            settings.tls.fallbackSNI = "broker.example.com"
            let proxy = try await ProxyHarness.start(resources: resources, settings: settings, group: group, tls: true)
            let c2 = try await connect(proxy, pki.options(sni: nil))
            #expect(await c2.waitForBytes(11) == Array("hello world".utf8))
            #expect(try await c2.serverCertificateCN() == "mqtt.example.com")
            #expect(proxy.engine.snapshot().connections.first?.tls?.sni == nil)
            await c2.close()
            await proxy.stop()
            await node.stop()
        }
    }

    @Test func aPlaintextClientOnATLSPortIsRefusedAndCounted() async throws {
        try await withEventLoopGroup { group in
            let node = try await RecordingUpstream.start(group: group)
            let resources = try ProxyResources.with(ssls: pki.ssls(), routes: [("r", mqttRoute(nodes: [node]))])
            let proxy = try await ProxyHarness.start(resources: resources, group: group, tls: true)
            let client = try await proxy.client()
            try await client.send(ConnectBytes.make(clientID: "plain"))
            #expect(await client.waitForClose())
            let snap = proxy.engine.snapshot()
            #expect(snap.rejectedByReason[.tlsHandshake] == 1)
            #expect(snap.events.last?.message.contains("not a TLS handshake") == true)
            #expect(node.clientIDs.isEmpty)
            await proxy.stop()
            await node.stop()
        }
    }

    @Test func extraPairServesClientsThatOnlyTakeRSA() async throws {
        try await withEventLoopGroup { group in
            let node = try await RecordingUpstream.start(group: group)
            let resources = try ProxyResources.with(ssls: pki.ssls(mtls: false), routes: [("r", mqttRoute(nodes: [node]))])
            let proxy = try await ProxyHarness.start(resources: resources, group: group, tls: true)
            var rsaOnly = pki.options(sni: "mqtt.example.com")
            rsaOnly.signatureAlgorithms = [.rsaPssRsaeSha256, .rsaPkcs1Sha256]
            let c1 = try await connect(proxy, rsaOnly)
            #expect(await c1.waitForBytes(11) == Array("hello world".utf8))
            #expect(try await c1.serverCertificateCN() == "mqtt.example.com (RSA)")
            let c2 = try await connect(proxy, pki.options(sni: "mqtt.example.com"))
            #expect(await c2.waitForBytes(11) == Array("hello world".utf8))
            #expect(try await c2.serverCertificateCN() == "mqtt.example.com")
            await c1.close()
            await c2.close()
            await proxy.stop()
            await node.stop()
        }
    }

    @Test func sslProtocolsLimitTheVersion() async throws {
        try await withEventLoopGroup { group in
            let node = try await RecordingUpstream.start(group: group)
            var ssls = pki.ssls(mtls: false)
            ssls[0].1["ssl_protocols"] = ["TLSv1.3"]
            let resources = try ProxyResources.with(ssls: ssls, routes: [("r", mqttRoute(nodes: [node]))])
            let proxy = try await ProxyHarness.start(resources: resources, group: group, tls: true)
            var tls12 = pki.options(sni: "mqtt.example.com")
            tls12.maximumVersion = .tlsv12
            let old = try await proxy.client(tls: tls12)
            #expect(await old.waitForHandshake() == false)
            // The wildcard object keeps the default: TLS 1.2 is fine there.
            var fleet12 = pki.options(sni: "x.fleet.example.com")
            fleet12.maximumVersion = .tlsv12
            let ok = try await connect(proxy, fleet12)
            #expect(await ok.waitForBytes(11) == Array("hello world".utf8))
            #expect(proxy.engine.snapshot().connections.first?.tls?.version == "TLSv1.2")
            await ok.close()
            await proxy.stop()
            await node.stop()
        }
    }

    @Test func certificateChangesApplyToTheNextHandshake() async throws {
        try await withEventLoopGroup { group in
            let node = try await RecordingUpstream.start(group: group)
            let routes = [("r", mqttRoute(nodes: [node]))]
            let proxy = try await ProxyHarness.start(resources: try .with(ssls: [], routes: routes), group: group, tls: true)
            let before = try await proxy.client(tls: pki.options(sni: "mqtt.example.com"))
            #expect(await before.waitForHandshake() == false)
            await proxy.apply(try .with(ssls: pki.ssls(mtls: false), routes: routes), version: 2)
            let after = try await connect(proxy, pki.options(sni: "mqtt.example.com"))
            #expect(await after.waitForBytes(11) == Array("hello world".utf8))
            // Replacing the certificate: the open connection stays, the next handshake gets the new one.
            let renewed = try pki.ca.issue(cn: "renewed", dns: ["mqtt.example.com"])
            await proxy.apply(try .with(ssls: [("1", ["cert": .string(renewed.cert), "key": .string(renewed.key),
                                                      "snis": ["mqtt.example.com"]])], routes: routes), version: 3)
            let third = try await connect(proxy, pki.options(sni: "mqtt.example.com"), clientID: "dev-2")
            #expect(await third.waitForBytes(11) == Array("hello world".utf8))
            #expect(try await third.serverCertificateCN() == "renewed")
            #expect(after.received.closed == false)
            // A disabled ssl object (status 0) is not served.
            await proxy.apply(try .with(ssls: [("1", ["cert": .string(renewed.cert), "key": .string(renewed.key),
                                                      "snis": ["mqtt.example.com"], "status": 0])], routes: routes),
                              version: 4)
            let disabled = try await proxy.client(tls: pki.options(sni: "mqtt.example.com"))
            #expect(await disabled.waitForHandshake() == false)
            await after.close()
            await third.close()
            await proxy.stop()
            await node.stop()
        }
    }

    @Test func tlsToBrokersWithVerificationAndRetryOnABadHandshake() async throws {
        try await withEventLoopGroup { group in
            let brokerCert = try pki.ca.issue(cn: "broker", dns: ["localhost"], ips: ["127.0.0.1"])
            var serverConfig = TLSConfiguration.makeServerConfiguration(
                certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(brokerCert.cert.utf8)).map { .certificate($0) },
                privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(brokerCert.key.utf8), format: .pem)))
            serverConfig.minimumTLSVersion = .tlsv12
            let tlsNode = try await RecordingUpstream.start(tls: try NIOSSLContext(configuration: serverConfig), group: group)
            let plainNode = try await RecordingUpstream.start(group: group)
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mqtt-proxy-tls-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            try pki.ca.cert.write(toFile: "\(dir)/ca.pem", atomically: true, encoding: .utf8)
            var settings = EngineSettings()
            settings.tls.trustedCertificateFile = "\(dir)/ca.pem"
            // Round robin over a TLS broker and a plaintext one: the plaintext one fails the handshake, the
            // connection is retried on the TLS one.
            let route = mqttRoute(type: "roundrobin", nodes: [plainNode, tlsNode],
                                  upstreamExtra: ["scheme": "tls", "tls": ["verify": true]])
            let proxy = try await ProxyHarness.start(resources: try .with(routes: [("r", route)]), settings: settings,
                                                     group: group)
            for i in 0..<2 {
                let client = try await proxy.client()
                try await client.send(ConnectBytes.make(clientID: "tls-\(i)"))
                #expect(await client.waitForBytes(11) == Array("hello world".utf8))
                await client.close()
            }
            #expect(tlsNode.clientIDs == ["tls-0", "tls-1"])
            #expect(proxy.engine.snapshot().nodes.first { $0.node == plainNode.address }?.connectFailures ?? 0 >= 1)
            await proxy.stop()

            // Without the CA, verification fails on every node and the client is refused.
            let strict = try await ProxyHarness.start(
                resources: try .with(routes: [("r", mqttRoute(nodes: [tlsNode], upstreamExtra: ["scheme": "tls", "tls": ["verify": true]]))]),
                group: group)
            let refused = try await strict.client()
            try await refused.send(ConnectBytes.make(clientID: "tls-x"))
            #expect(await refused.waitForClose())
            #expect(strict.engine.snapshot().events.contains { $0.message.contains("TLS handshake with the broker failed") })
            await strict.stop()
            await tlsNode.stop()
            await plainNode.stop()
        }
    }
}

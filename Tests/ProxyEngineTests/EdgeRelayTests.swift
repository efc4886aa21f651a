import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import ProxyControl
@testable import ProxyEngine
import ProxyModel
import ProxyProtocol
import ProxyTestSupport
import Testing

private func hex(_ s: String) -> [UInt8] {
    let digits = s.filter(\.isHexDigit)
    return stride(from: 0, to: digits.count, by: 2).map { i in
        let start = digits.index(digits.startIndex, offsetBy: i)
        return UInt8(digits[start...digits.index(after: start)], radix: 16)!
    }
}

private func portBytes(_ port: Int) -> [UInt8] { [UInt8(port >> 8), UInt8(port & 0xFF)] }

@Suite("The edge over real sockets: PROXY headers to brokers, keep-alive idle limits")
struct EdgeRelayTests {
    let pki = TLSFixture.shared

    @Test(arguments: ["v1", "v2"])
    func brokersGetTheHeaderAheadOfTheConnectByteForByte(_ version: String) async throws {
        try await withEventLoopGroup { group in
            let node = try await RecordingUpstream.start(greeting: .connack, proxyHeader: true, group: group)
            let route = mqttRoute(nodes: [node], upstreamExtra: ["proxy_protocol": .string(version)])
            let proxy = try await ProxyHarness.start(resources: .with(routes: [("1", route)]), group: group)
            let client = try await proxy.client(from: "127.0.0.7")
            let connect = ConnectBytes.make(clientID: "behind-proxy")
            try await client.send(connect)
            #expect(await client.waitForBytes(4).count == 4)
            let sourcePort = try #require(client.channel.localAddress?.port)
            let record = try #require(node.connections.first)
            let expected = version == "v1"
                ? Array("PROXY TCP4 127.0.0.7 127.0.0.1 \(sourcePort) \(proxy.port)\r\n".utf8)
                : ProxyHeader.v2Signature + hex("21 11 000C 7F000007 7F000001") + portBytes(sourcePort) + portBytes(proxy.port)
            #expect(record.proxyHeader == expected)
            #expect(record.bytes == connect)
            await client.close()
            await proxy.stop()
            await node.stop()
        }
    }

    @Test func v2CarriesTheSNIAndTheVerifiedClientCertificatesCNFromATLSListener() async throws {
        try await withEventLoopGroup { group in
            let node = try await RecordingUpstream.start(greeting: .connack, proxyHeader: true, group: group)
            let route = mqttRoute(nodes: [node], extra: ["sni": "mqtt.example.com"], upstreamExtra: ["proxy_protocol": "v2"])
            let proxy = try await ProxyHarness.start(resources: try .with(ssls: pki.ssls(), routes: [("1", route)]),
                                                     group: group, tls: true)
            let client = try await proxy.client(tls: pki.options(sni: "mqtt.example.com").with(pki.client))
            #expect(await client.waitForHandshake())
            try await client.send(ConnectBytes.make(clientID: "device-7"))
            #expect(await client.waitForBytes(4).count == 4)
            let sourcePort = try #require(client.channel.localAddress?.port)
            let sni = Array("mqtt.example.com".utf8)
            let tlvs = hex("02 0010") + sni + hex("20 001A 07 00000000 21 0007") + Array("TLSv1.3".utf8)
                + hex("22 0008") + Array("device-7".utf8)
            let expected = ProxyHeader.v2Signature + [0x21, 0x11, 0x00, UInt8(12 + tlvs.count)]
                + hex("7F000001 7F000001") + portBytes(sourcePort) + portBytes(proxy.port) + tlvs
            #expect(node.connections.first?.proxyHeader == expected)
            await client.close()
            await proxy.stop()
            await node.stop()
        }
    }

    @Test func aTLSBrokerGetsTheHeaderBeforeTheHandshake() async throws {
        try await withEventLoopGroup { group in
            let brokerCert = try pki.ca.issue(cn: "broker", ips: ["127.0.0.1"])
            let serverConfig = TLSConfiguration.makeServerConfiguration(
                certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(brokerCert.cert.utf8)).map { .certificate($0) },
                privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(brokerCert.key.utf8), format: .pem)))
            let node = try await RecordingUpstream.start(tls: try NIOSSLContext(configuration: serverConfig),
                                                         proxyHeader: true, group: group)
            let route = mqttRoute(nodes: [node], upstreamExtra: ["scheme": "tls", "proxy_protocol": "v1"])
            let proxy = try await ProxyHarness.start(resources: .with(routes: [("1", route)]), group: group)
            let client = try await proxy.client()
            try await client.send(ConnectBytes.make(clientID: "over-tls"))
            #expect(await client.waitForBytes(11) == Array("hello world".utf8))
            let header = try #require(node.connections.first?.proxyHeader)
            #expect(String(decoding: header, as: UTF8.self).hasPrefix("PROXY TCP4 127.0.0.1 127.0.0.1 "))
            #expect(node.clientIDs == ["over-tls"])
            await client.close()
            await proxy.stop()
            await node.stop()
        }
    }

    @Test func aProxyProtocolListenerTakesTheClientFromTheHeaderAndPassesItOn() async throws {
        try await withEventLoopGroup { group in
            let node = try await RecordingUpstream.start(greeting: .connack, proxyHeader: true, group: group)
            // Only clients of 192.0.2.0/24 match; the socket's peer is 127.0.0.1.
            let route = mqttRoute(nodes: [node], extra: ["remote_addr": "192.0.2.0/24"])
            let proxy = try await ProxyHarness.start(
                resources: .with(routes: [("1", route)]), group: group,
                listener: StreamListener(port: 0, proxyProtocol: true, proxyProtocolToUpstream: true))
            let client = try await proxy.client()
            let header = ProxyHeader(version: 2, source: try SocketAddress(ipAddress: "192.0.2.10", port: 51000),
                                     destination: try SocketAddress(ipAddress: "198.51.100.1", port: 1883))
            try await client.send(header.encoded() + ConnectBytes.make(clientID: "from-the-lb"))
            #expect(await client.waitForBytes(4).count == 4)
            let info = try #require(proxy.engine.snapshot().connections.first)
            #expect(info.remoteAddress == "192.0.2.10")
            #expect(info.localAddress == "198.51.100.1")
            #expect(info.via?.hasPrefix("127.0.0.1:") == true)
            // The listener sends v1 on: the broker sees the client, not the load balancer or the proxy.
            #expect(node.connections.first?.proxyHeader == Array("PROXY TCP4 192.0.2.10 198.51.100.1 51000 1883\r\n".utf8))
            await client.close()
            await proxy.stop()
            await node.stop()
        }
    }

    @Test func healthProbesOfAProxyProtocolBrokerSendALocalHeader() async throws {
        try await withEventLoopGroup { group in
            let node = try await RecordingUpstream.start(greeting: .connack, proxyHeader: true, group: group)
            let checks = try HealthChecks(json: ["active": ["type": "mqtt", "timeout": 2]], prefix: "checks")
            let target = HealthTarget(key: .init(address: node.address, checks: checks, proxyProtocol: .v2),
                                      host: node.host, port: node.port)
            let outcome = try await HealthProber(loop: group.next()).probe(target, clientID: "probe-1").get()
            #expect(outcome == .success)
            #expect(node.connections.first?.proxyHeader == ProxyHeader.v2Signature + [0x20, 0x00, 0x00, 0x00])
            #expect(node.clientIDs == ["probe-1"])
            await node.stop()
        }
    }

    @Test func aRelayIdlesForOneAndAHalfKeepAlivesNotTheShorterReadTimeout() async throws {
        try await withEventLoopGroup { group in
            let node = try await RecordingUpstream.start(greeting: .connack, group: group)
            let route = mqttRoute(nodes: [node], upstreamExtra: ["timeout": ["connect": 1, "send": 1, "read": 1]])
            let proxy = try await ProxyHarness.start(resources: .with(routes: [("1", route)]), group: group)
            let client = try await proxy.client()
            try await client.send(ConnectBytes.make(clientID: "pinger", keepAlive: 2))
            #expect(await client.waitForBytes(4).count == 4)
            let start = Date()
            #expect(proxy.engine.snapshot().connections.first?.idleLimit == 3)
            #expect(await client.waitForClose(timeout: 6))
            let idle = Date().timeIntervalSince(start)
            // Past the 1 s read timeout: the keep-alive's 3 s applied (`start` is late if this task was starved).
            #expect(idle > 1.5, "closed after \(idle) s")
            #expect(await eventually { proxy.engine.snapshot().routes.first?.disconnects[.idleTimeout] == 1 })
            await proxy.stop()
            await node.stop()
        }
    }
}

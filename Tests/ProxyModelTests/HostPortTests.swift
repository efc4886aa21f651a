import ProxyModel
import Testing

@Suite("host:port parsing and formatting")
struct HostPortTests {
    @Test("accepted forms", arguments: [
        ("a.b:1", "a.b", 1), ("127.0.0.1:1883", "127.0.0.1", 1883), ("broker-1.mqtt.svc:65535", "broker-1.mqtt.svc", 65535),
        ("[fe80::1]:1883", "fe80::1", 1883), ("[::1]:8883", "::1", 8883),
    ])
    func parses(text: String, host: String, port: Int) throws {
        let parsed = try #require(HostPort(text))
        #expect(parsed.host == host)
        #expect(parsed.port == port)
        #expect(parsed.description == text)
    }

    @Test("refused forms", arguments: [
        "fe80::1:1883", "a:0", "a:65536", ":1", "nohost", "a:", "a:x", "a:+1", "[::1", "[::1]1883", "[host]:1", "a: 1",
    ])
    func refuses(text: String) {
        #expect(HostPort(text) == nil)
    }

    @Test("IPv6 hosts are written in brackets, once")
    func formats() {
        #expect(HostPort(host: "::1", port: 1883).description == "[::1]:1883")
        #expect(HostPort.format(host: "[::1]", port: 1883) == "[::1]:1883")
        #expect(HostPort.format(host: "10.0.0.1", port: 1) == "10.0.0.1:1")
        #expect(UpstreamNode(host: "fe80::2", port: 1883).address == "[fe80::2]:1883")
    }
}

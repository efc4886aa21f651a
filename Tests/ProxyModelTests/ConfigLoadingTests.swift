import ProxyModel
import Testing

@Suite("config.yaml loading")
struct ConfigLoadingTests {
    @Test func readsTheSeedLayout() throws {
        let text = """
            apisix:
              node_listen: 9080
              router:
                http: radixtree_uri
              proxy_mode: http&stream
              stream_proxy:
                only: false
                tcp:
                  - 9100
                  - "127.0.0.1:9101"
                  - addr: "[::1]:9102"
                  - addr: 9443
                    tls: true
            deployment:
              role: traditional
              admin:
                admin_key:
                  - name: admin
                    key: edd1c9f034335f136f87ad84b625c8f1
                    role: admin
                  - name: viewer
                    key: 4054f7cf07e344346cd3f287985e76a2
                    role: viewer
                admin_listen:
                  ip: 127.0.0.1
                  port: 9180
                allow_admin:
                  - 127.0.0.0/24
              etcd:
                host: ["http://127.0.0.1:2379"]
                prefix: /apisix
                timeout: 30
            nginx_config:
              error_log_level: warn
            mqtt_proxy:
              preread_timeout: 5
              preread_max_bytes: 4096
              admin_body_limit: 2048
            """
        let loaded = try ProxyConfig.load(text: text, file: "config.yaml")
        let c = loaded.config
        #expect(c.proxyMode == .httpAndStream)
        #expect(c.listeners == [
            StreamListener(port: 9100), StreamListener(host: "127.0.0.1", port: 9101),
            StreamListener(host: "::1", port: 9102), StreamListener(port: 9443, tls: true),
        ])
        #expect(c.admin.keys.map(\.role) == [.admin, .viewer])
        #expect(c.admin.listenHost == "127.0.0.1" && c.admin.listenPort == 9180)
        #expect(c.admin.allowAdmin.map(\.text) == ["127.0.0.0/24"])
        #expect(c.etcd?.hosts == ["http://127.0.0.1:2379"])
        #expect(c.engine.prereadTimeout == 5 && c.engine.prereadMaxBytes == 4096)
        #expect(c.admin.bodyLimit == 2048)
        // One warning each for node_listen, router and nginx_config, with their lines.
        #expect(loaded.warnings.count == 3)
        #expect(loaded.warnings.contains { $0.message.contains("node_listen") && $0.position?.line == 2 })
        #expect(loaded.warnings.contains { $0.message.contains("nginx_config") })
    }

    @Test func defaultsWhenEmpty() throws {
        let c = try ProxyConfig.load(text: "", file: "c.yaml").config
        #expect(c.proxyMode == .httpAndStream)
        #expect(c.admin.listenHost == "127.0.0.1")
        #expect(c.engine.prereadMaxBytes == 16384 && c.engine.prereadTimeout == 30)
    }

    @Test(arguments: [
        ("apisix:\n  proxy_mode: tcp\n", 2, "invalid proxy_mode"),
        ("apisix:\n  stream_proxy:\n    tcp:\n      - 70000\n", 4, "port 70000 is out of range"),
        ("apisix:\n  stream_proxy:\n    tcp:\n      - \"localhost:1\"\n", 4, "invalid listen address"),
        ("apisix:\n  stream_proxy:\n    tcp:\n      - addr: 1\n        proxy_protocol: {}\n", 5,
         "proxy_protocol must be true or false"),
        ("apisix:\n  stream_proxy:\n    tcp:\n      - addr: 1\n        max_connections: 0\n", 5,
         "max_connections must be an integer ≥ 1"),
        ("apisix:\n  proxy_protocol:\n    enable_tcp_pp: yes please\n", 3, "enable_tcp_pp must be true or false"),
        ("mqtt_proxy:\n  proxy_protocol_trusted: [\"10.0.0.0/33\"]\n", 2, "invalid CIDR in proxy_protocol_trusted"),
        ("mqtt_proxy:\n  max_connections: -5\n", 2, "max_connections must be an integer ≥ 1"),
        ("apisix:\n  stream_proxy:\n    tcp:\n      - addr: 1\n        reuseport: 1\n", 5, "reuseport must be true or false"),
        ("apisix:\n  stream_proxy:\n    tcp: [1, 1]\n", 3, "listed twice"),
        ("deployment:\n  admin:\n    admin_key:\n      - key: k\n        role: root\n", 5, "invalid role root"),
        ("deployment:\n  admin:\n    allow_admin: [\"300.0.0.0/8\"]\n", 3, "invalid CIDR"),
        ("mqtt_proxy:\n  preread_timeout: -1\n", 2, "preread_timeout must be"),
        ("mqtt_proxy:\n  typo: 1\n", 2, "unknown setting mqtt_proxy.typo"),
        ("apisix: [\n", 2, "YAML syntax error"),
    ])
    func errorsCarryTheLine(text: String, line: Int, message: String) {
        do {
            _ = try ProxyConfig.load(text: text, file: "conf/config.yaml")
            Issue.record("expected an error for \(message)")
        } catch {
            #expect(error.message.contains(message), "got: \(error.message)")
            #expect(error.position?.line == line, "got: \(error)")
            #expect(error.description.hasPrefix("conf/config.yaml:\(line):"))
        }
    }

    @Test func listenersTakeThePROXYSwitchesTheyDoNotSetThemselves() throws {
        let text = """
            apisix:
              stream_proxy:
                tcp:
                  - 9100
                  - addr: 9101
                    proxy_protocol: false
                    max_connections: 100
                  - addr: "127.0.0.1:9102"
                    tls: true
                    proxy_protocol_to_upstream: false
                    reuseport: true
              proxy_protocol:
                enable_tcp_pp: true
                enable_tcp_pp_to_upstream: true
                listen_http_port: 9181
            mqtt_proxy:
              max_connections: 5000
              proxy_protocol_trusted: ["10.0.0.0/8", "192.168.1.7"]
            """
        let loaded = try ProxyConfig.load(text: text, file: "config.yaml")
        let l = loaded.config.listeners
        #expect(l.map(\.proxyProtocol) == [true, false, true])
        #expect(l.map(\.proxyProtocolToUpstream) == [true, true, false])
        #expect(l.map(\.maxConnections) == [nil, 100, nil])
        #expect(l.map(\.reusePort) == [false, false, true])
        #expect(l[2].description == "127.0.0.1:9102 (tls, proxy_protocol, reuseport)")
        #expect(l[1].description == "0.0.0.0:9101 (proxy_protocol_to_upstream, max 100)")
        #expect(loaded.config.engine.maxConnections == 5000)
        #expect(loaded.config.engine.proxyProtocolTrusted.map(\.text) == ["10.0.0.0/8", "192.168.1.7"])
        #expect(loaded.warnings.contains { $0.message.contains("listen_http_port") })
    }

    @Test func trustsLoopbackPROXYHeadersByDefault() throws {
        let c = try ProxyConfig.load(text: "", file: "c.yaml").config
        #expect(c.engine.maxConnections == nil)
        #expect(c.engine.proxyProtocolTrusted.map(\.text) == ["127.0.0.0/8", "::1/128"])
    }

    @Test func readsTheSSLSection() throws {
        let text = """
            apisix:
              ssl:
                fallback_sni: Mqtt.Example.com
                ssl_protocols: TLSv1.3
                ssl_trusted_certificate: ca.pem
                ssl_ciphers: HIGH
            """
        let loaded = try ProxyConfig.load(text: text, file: "config.yaml")
        let tls = loaded.config.engine.tls
        #expect(tls.fallbackSNI == "mqtt.example.com")
        #expect(tls.protocols == [.tls13])
        #expect(tls.trustedCertificateFile == "ca.pem")
        #expect(loaded.warnings.map(\.message) == ["apisix.ssl.ssl_ciphers does not apply to mqtt-proxy stream listeners; ignored"])
        #expect(ProxyConfig().engine.tls.protocols == [.tls12, .tls13])
        #expect {
            try ProxyConfig.load(text: "apisix:\n  ssl:\n    ssl_protocols: TLSv1.1 TLSv1.2\n", file: "c.yaml")
        } throws: { error in
            guard let e = error as? SourceError else { return false }
            return e.position?.line == 3 && e.message.contains("TLSv1.1 is not supported")
        }
    }
}

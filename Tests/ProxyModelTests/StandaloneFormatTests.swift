import ProxyModel
import Testing

@Suite("APISIX standalone store format")
struct StandaloneFormatTests {
    static let sample = """
        stream_routes:
          - id: 1
            server_port: 9100
            plugins:
              mqtt-proxy:
                protocol_name: MQTT
                protocol_level: 4
            upstream_id: up-1
          - id: r2
            upstream:
              nodes:
                "127.0.0.1:1883": 1
        upstreams:
          - id: up-1
            type: chash
            key: mqtt_client_id
            nodes:
              - host: 127.0.0.1
                port: 1995
                weight: 1
        #END
        """

    @Test func decodesInOrder() throws {
        let (resources, problems) = StandaloneFormat.decode(text: Self.sample, file: "apisix.yaml")
        #expect(problems.isEmpty, "\(problems)")
        #expect(Array(resources.streamRoutes.keys) == ["1", "r2"])
        #expect(resources.upstreams["up-1"]?.value.type == .chash)
        let route = try #require(resources.streamRoutes["1"]?.value)
        #expect(resources.upstream(for: route)?.nodes.first?.port == 1995)
        // Integer ids are kept as strings, as APISIX shows them.
        #expect(resources.streamRoutes["1"]?.raw["id"] == .string("1"))
    }

    @Test func roundTripsThroughEncode() throws {
        let (resources, _) = StandaloneFormat.decode(text: Self.sample, file: "a.yaml")
        let text = StandaloneFormat.encode(resources)
        #expect(text.hasSuffix("#END\n"))
        let (again, problems) = StandaloneFormat.decode(text: text, file: "b.yaml")
        #expect(problems.isEmpty, "\(problems)")
        #expect(again.rawObjects(.streamRoutes) == resources.rawObjects(.streamRoutes))
        #expect(again.rawObjects(.upstreams) == resources.rawObjects(.upstreams))
    }

    @Test func reportsEveryProblemWithItsLine() {
        let text = """
            stream_routes:
              - id: 1
                remote_addr: ":/8"
                upstream:
                  nodes: {"127.0.0.1:1": 1}
              - id: 2
                upstream_id: missing
              - id: 1
                upstream:
                  nodes: {"127.0.0.1:1": 1}
            #END
            """
        let (_, problems) = StandaloneFormat.decode(text: text, file: "s.yaml")
        let lines = problems.map { $0.position?.line ?? 0 }
        #expect(problems.count == 3, "\(problems)")
        #expect(problems[0].description == "s.yaml:3:18: stream_routes[0] (id 1): invalid remote_addr: :/8")
        #expect(problems.contains { $0.message.contains("duplicate stream route id 1") })
        #expect(problems.contains { $0.message.contains("upstream id [missing]") && $0.position?.line == 7 })
        #expect(lines.allSatisfy { $0 > 0 })
    }

    @Test func aFileWithoutEndIsIncomplete() {
        let (_, problems) = StandaloneFormat.decode(text: "stream_routes: []\n", file: "x.yaml")
        #expect(problems.map(\.message) == ["missing #END line at the end (file incomplete?)"])
    }
}

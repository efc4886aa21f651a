import ProxyModel
import Testing

func upstreamError(_ body: JSONValue) -> ValidationError? {
    do {
        _ = try Upstream(json: body)
        return nil
    } catch {
        return error
    }
}

@Suite("Upstream validation")
struct UpstreamValidationTests {
    @Test func nodesAsMapOrArray() throws {
        let map = try Upstream(json: ["nodes": ["127.0.0.1:1980": 1, "[::1]:1883": 3]])
        #expect(map.nodes == [UpstreamNode(host: "127.0.0.1", port: 1980, weight: 1),
                              UpstreamNode(host: "::1", port: 1883, weight: 3)])
        #expect(map.type == .roundrobin)
        let array = try Upstream(json: [
            "type": "least_conn",
            "nodes": [["host": "broker-1.mqtt.svc", "port": 1883, "weight": 2, "priority": -1]],
        ])
        #expect(array.nodes == [UpstreamNode(host: "broker-1.mqtt.svc", port: 1883, weight: 2, priority: -1)])
        #expect(array.nodes[0].address == "broker-1.mqtt.svc:1883")
    }

    static func c(_ body: JSONValue, _ message: String) -> (JSONValue, String) { (body, message) }

    static let errorCases: [(JSONValue, String)] = [
        c(["nodes": ["127.0.0.1:1": 1], "type": "ewma"], "invalid type: ewma"),
        c(["nodes": ["127.0.0.1:1": 1], "type": "chash"], "missing key"),
        c(["nodes": ["127.0.0.1:1": 1], "type": "chash", "key": "uri"], "invalid key: uri"),
        c(["type": "roundrobin"], "missing nodes"),
        c(["nodes": ["127.0.0.1": 1]], "invalid nodes: 127.0.0.1 is not host:port"),
        c(["nodes": ["127.0.0.1:1": -1]], "weight of 127.0.0.1:1 must be an integer ≥ 0"),
        c(["nodes": [["host": "127.0.0.1", "weight": 1]]], "invalid nodes[0]: missing port"),
        c(["nodes": [["host": "127.0.0.1", "port": 99999, "weight": 1]]], "invalid port: 99999 is out of range"),
        c(["nodes": [["port": 1, "weight": 1]]], "invalid nodes[0]: missing host"),
        c(["nodes": [["host": "a b", "port": 1, "weight": 1]]], "invalid host: a b"),
        c(["nodes": "x"], "invalid nodes: expected an array or an object"),
        c(["nodes": ["127.0.0.1:1": 1], "retries": -1], "invalid retries: -1 is out of range"),
        c(["nodes": ["127.0.0.1:1": 1], "retry_timeout": -1], "invalid retry_timeout"),
        c(["nodes": ["127.0.0.1:1": 1], "timeout": ["connect": 1, "send": 1]], "invalid timeout: missing read"),
        c(["nodes": ["127.0.0.1:1": 1], "timeout": ["connect": 0, "send": 1, "read": 1]], "invalid connect"),
        c(["nodes": ["127.0.0.1:1": 1], "scheme": "http"], "invalid scheme: http"),
        c(["nodes": ["127.0.0.1:1": 1], "hash_on": "body"], "invalid hash_on: body"),
        c(["nodes": ["127.0.0.1:1": 1], "tls": ["client_cert": "x"]], "client_cert and client_key go together"),
        c(["nodes": ["127.0.0.1:1": 1], "frobnicate": true], "additional properties forbidden, found frobnicate"),
        c(["nodes": ["127.0.0.1:1": 1], "service_name": "x"], "additional properties forbidden, found service_name"),
        c(["nodes": ["127.0.0.1:1": 99991, "127.0.0.2:1": 99989], "type": "chash", "key": "remote_addr"],
         "chash weights too large"),
    ]

    @Test(arguments: errorCases)
    func errorsNameTheField(body: JSONValue, message: String) throws {
        let error = try #require(upstreamError(body))
        #expect(error.message.contains(message), "got: \(error.message)")
    }

    @Test func timeoutsAndRetries() throws {
        let up = try Upstream(json: [
            "nodes": ["127.0.0.1:1": 1, "127.0.0.1:2": 1, "127.0.0.1:3": 1],
            "timeout": ["connect": 0.5, "send": 3, "read": 7], "retry_timeout": 2, "scheme": "tcp",
            "pass_host": "pass", "checks": ["active": ["type": "tcp"]],
        ])
        #expect(up.timeout == UpstreamTimeout(connect: 0.5, send: 3, read: 7))
        #expect(up.timeout?.idle == 7)
        #expect(up.effectiveRetries == 2)
        #expect(up.retryTimeout == 2)
        let explicit = try Upstream(json: ["nodes": ["127.0.0.1:1": 1], "retries": 5])
        #expect(explicit.effectiveRetries == 5)
    }
}

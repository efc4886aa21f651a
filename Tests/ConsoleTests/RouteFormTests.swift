import Console
import ProxyModel
import Testing

@Suite("Route form")
struct RouteFormTests {
    @Test func editingKeepsOtherPluginsAndMQTTProxySettings() throws {
        let raw: JSONValue = [
            "id": "r1",
            "plugins": [
                "mqtt-proxy": ["protocol_name": "MQTT", "protocol_level": 4, "connect_rate": ["rate": 50, "burst": 100]],
                "limit-conn": ["conn": 10, "burst": 5, "default_conn_delay": 1, "key": "remote_addr"],
            ],
            "upstream": ["type": "roundrobin", "nodes": ["127.0.0.1:1883": 1]],
        ]
        let upstream = try Upstream(json: raw["upstream"]!)
        var form = RouteForm.edit(id: "r1", raw: raw, upstream: upstream)
        form.values[.protocolLevel] = "5"
        let body = try form.body().get().body
        #expect(body["plugins"]?["mqtt-proxy"]?["protocol_level"] == 5)
        #expect(body["plugins"]?["mqtt-proxy"]?["connect_rate"] == ["rate": 50, "burst": 100])
        #expect(body["plugins"]?["limit-conn"] == raw["plugins"]?["limit-conn"])

        form.values[.protocolLevel] = ""
        form.values[.protocolName] = ""
        let plain = try form.body().get().body
        #expect(plain["plugins"]?["mqtt-proxy"] == nil)
        #expect(plain["plugins"]?["limit-conn"] != nil)
    }
}

import ProxyModel
import Testing

/// A valid route body to mutate in tests.
func baseRoute() -> JSONValue {
    [
        "plugins": ["mqtt-proxy": ["protocol_name": "MQTT", "protocol_level": 4]],
        "upstream": [
            "type": "chash", "key": "mqtt_client_id",
            "nodes": [["host": "127.0.0.1", "port": 1995, "weight": 1], ["host": "127.0.0.2", "port": 1995, "weight": 1]],
        ],
    ]
}

func routeError(_ body: JSONValue, id: String? = "1") -> ValidationError? {
    do {
        _ = try StreamRoute(json: body, id: id)
        return nil
    } catch {
        return error
    }
}

@Suite("Stream route validation")
struct StreamRouteValidationTests {
    @Test func acceptsTheSeedRoutes() throws {
        let route = try StreamRoute(json: baseRoute(), id: "1")
        #expect(route.mqttProxy == MQTTProxyPluginConfig(protocolName: "MQTT", protocolLevel: 4))
        #expect(route.upstream?.type == .chash)
        #expect(route.upstream?.nodes.count == 2)
        #expect(route.upstream?.effectiveRetries == 1)
    }

    @Test func protocolNameDefaultsToMQTT() throws {
        var body = baseRoute()
        body["plugins"] = ["mqtt-proxy": ["protocol_level": 5]]
        let route = try StreamRoute(json: body, id: "1")
        #expect(route.mqttProxy?.protocolName == "MQTT")
        #expect(route.mqttProxy?.protocolLevel == 5)
    }

    static let fieldCases: [(String, JSONValue, String)] = [
        ("remote_addr", ":/8", "invalid remote_addr: :/8"),
        ("remote_addr", "10.0.0.0/33", "invalid remote_addr: 10.0.0.0/33"),
        ("server_addr", "not-an-ip", "invalid server_addr: not-an-ip"),
        ("server_port", 0, "invalid server_port: 0 is out of range 1…65535"),
        ("server_port", 70000, "invalid server_port: 70000 is out of range"),
        ("server_port", "9100", "invalid server_port: expected an integer"),
        ("sni", "bad sni!", "invalid sni: bad sni!"),
        ("name", "", "invalid name: string too short"),
        ("bogus", 1, "additional properties forbidden, found bogus"),
        ("plugins", ["mqttt-proxy": [:]], "unknown plugin [mqttt-proxy]"),
        ("plugins", ["mqtt-proxy": ["protocol_name": "MQTT"]], "property \"protocol_level\" is required"),
        ("plugins", ["mqtt-proxy": ["protocol_level": "4"]], "property \"protocol_level\" must be an integer"),
        ("plugins", ["mqtt-proxy": ["protocol_level": 4, "x": 1]], "additional properties forbidden, found x"),
        ("service_id", "1", "service_id is not supported"),
        ("labels", ["env": "has space"], "invalid labels.env"),
    ]

    @Test(arguments: fieldCases)
    func fieldErrorsNameTheField(field: String, value: JSONValue, message: String) throws {
        var body = baseRoute()
        body[field] = value
        let error = try #require(routeError(body))
        #expect(error.message.contains(message), "got: \(error.message)")
        #expect(error.field.hasPrefix(field))
    }

    @Test func upstreamIsRequired() throws {
        var body = baseRoute()
        body["upstream"] = nil
        guard case .object(var dict) = body else { return }
        dict.removeValue(forKey: "upstream")
        let error = try #require(routeError(.object(dict)))
        #expect(error.message == "missing upstream or upstream_id")
    }

    @Test func idsAreCheckedAndMustAgree() throws {
        var body = baseRoute()
        body["id"] = "2"
        #expect(routeError(body, id: "1")?.message.contains("wrong stream route id") == true)
        body["id"] = .int(7)
        #expect(try StreamRoute(json: body, id: nil).id == "7")
        body["id"] = "bad id"
        #expect(routeError(body, id: nil)?.message.contains("invalid id: bad id") == true)
        body["id"] = .int(0)
        #expect(routeError(body, id: nil)?.field == "id")
        #expect(routeError(baseRoute(), id: String(repeating: "a", count: 65))?.field == nil)
    }

    @Test func acceptsAddressesAndCIDRs() throws {
        var body = baseRoute()
        body["remote_addr"] = "127.0.0.0/8"
        body["server_addr"] = "::1"
        body["server_port"] = 9100
        body["sni"] = "*.Example.com"
        let route = try StreamRoute(json: body, id: "r.1_x-y")
        #expect(route.remoteAddr?.prefixLength == 8)
        #expect(route.serverAddr?.network.isIPv6 == true)
        #expect(route.sni == "*.example.com")
    }

    @Test func legacyPluginUpstreamIsAccepted() throws {
        let body: JSONValue = [
            "remote_addr": "127.0.0.1", "server_port": 2000,
            "plugins": ["mqtt-proxy": ["protocol_name": "MQTT", "protocol_level": 4,
                                       "upstream": ["host": "127.0.0.1", "port": 1995]]],
        ]
        let route = try StreamRoute(json: body, id: "1")
        #expect(route.mqttProxy?.legacyUpstream == UpstreamNode(host: "127.0.0.1", port: 1995))
        #expect(ProxyResources().upstream(for: route)?.nodes.first?.port == 1995)
    }
}

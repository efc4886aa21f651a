@testable import Console
import ProxyControl
import ProxyModel
import ProxyTestSupport
import Testing

/// The edge in the console: the connection limit, a route's limits and why its relays ended, a node's refusals,
/// and a connection's idle limit, load balancer and broker answer.
@Suite("Console rendering: the edge")
struct EdgeRenderingTests {
    static func data() -> ConsoleData {
        var d = Fixture.data()
        d.engine.connectionLimit = 9488
        d.engine.routes[0].disconnects = [.clientClosed: 30, .idleTimeout: 2]
        d.engine.nodes = [NodeStats(node: "127.0.0.1:1883", active: 8, total: 30, bytesIn: 0, bytesOut: 0,
                                    connectFailures: 0, disconnects: [.brokerClosed: 3], connacks: [0: 27, 5: 3])]
        d.engine.connections[0].idleLimit = 90
        d.engine.connections[0].via = "10.0.0.5:41000"
        d.engine.connections[0].brokerConnack = 5
        d.engine.connections[0].brokerRefusal = "0x05 not authorized"
        d.resources = try! ProxyResources.with(routes: [
            ("1", ["desc": "sensors", "server_port": 9100,
                   "plugins": ["mqtt-proxy": ["protocol_level": 4, "connect_rate": ["rate": 50, "burst": 100]],
                               "limit-conn": ["conn": 10, "burst": 5, "default_conn_delay": 1, "key": "remote_addr"]],
                   "upstream": ["type": "chash", "key": "mqtt_client_id",
                                "nodes": ["127.0.0.1:1883": 1, "127.0.0.2:1883": 1]]]),
        ])
        return d
    }

    @Test(arguments: [(80, 24), (200, 60)])
    func limitsAndCauses(width: Int, height: Int) {
        let d = Self.data()
        let c = ConsoleController()
        #expect(Fixture.render(c, d, width: width, height: height)[0].contains("conns 12/9488"))
        _ = c.handle(.char("3"), data: d)
        let routes = Fixture.render(c, d, width: width, height: height)
        let limits = routes.first { $0.contains("limits:") }
        #expect(limits?.contains("connect_rate 50/s burst 100") == true)
        if width >= 200 {
            #expect(limits?.contains("limit-conn 10+5 by remote_addr") == true)
            #expect(limits?.contains("ended: client_closed 30, idle_timeout 2") == true)
        }
        _ = c.handle(.char("2"), data: d)
        let nodes = Fixture.render(c, d, width: width, height: height)
        #expect(nodes.contains { $0.contains("broker refused CONNACK 0x05 ×3") })
    }

    @Test func detailShowsIdleLimitLoadBalancerAndBrokerAnswer() {
        let d = Self.data()
        let c = ConsoleController()
        _ = c.handle(.enter, data: d)
        let lines = Fixture.render(c, d, width: 100, height: 30)
        #expect(lines.contains { $0.contains("via 10.0.0.5:41000 (PROXY)") })
        #expect(lines.contains { $0.contains("idle limit 1m30s") })
        #expect(lines.contains { $0.contains("broker said   CONNACK 0x05 not authorized") })
    }
}

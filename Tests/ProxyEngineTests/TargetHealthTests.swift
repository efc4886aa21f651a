@testable import ProxyEngine
import LoadBalancing
import NIOEmbedded
import ProxyModel
import Testing

@Suite("Health state machine (lua-resty-healthcheck's counters)")
struct TargetHealthTests {
    let limits = HealthLimits(active: ActiveHealthCheck())  // successes 2, tcp 2, timeouts 3, mqtt 2

    @Test("failures of one kind count up to their own limit; other kinds do not add up")
    func separateCounters() {
        var health = TargetHealth()
        do { let changed = health.report(.timeout("t1"), limits: limits); #expect(!changed) }
        #expect(health.state == .mostlyHealthy)
        do { let changed = health.report(.tcpFailure("refused"), limits: limits); #expect(!changed) }
        do { let changed = health.report(.timeout("t2"), limits: limits); #expect(!changed) }
        do { let changed = health.report(.timeout("t3"), limits: limits); #expect(changed) }
        #expect(health.state == .unhealthy)
        #expect(health.reason == "t3")
    }

    @Test("a success clears the failures; a failure clears the successes")
    func clearing() {
        var health = TargetHealth()
        _ = health.report(.tcpFailure("a"), limits: limits)
        _ = health.report(.success, limits: limits)
        #expect(health.state == .mostlyHealthy)
        _ = health.report(.tcpFailure("b"), limits: limits)
        #expect(health.state == .mostlyHealthy, "the earlier failure was cleared by the success")
        do { let changed = health.report(.tcpFailure("c"), limits: limits); #expect(changed) }
        do { let changed = health.report(.success, limits: limits); #expect(!changed) }
        #expect(health.state == .mostlyUnhealthy)
        _ = health.report(.timeout("d"), limits: limits)
        do { let changed = health.report(.success, limits: limits); #expect(!changed) }
        do { let changed = health.report(.success, limits: limits); #expect(changed) }
        #expect(health.state == .healthy)
        #expect(health.reason == nil)
    }

    @Test("a limit of 0 ignores that kind of report (passive checks)")
    func zeroLimit() {
        var passive = PassiveHealthCheck()
        passive.tcpFailures = 0
        var health = TargetHealth()
        for _ in 0..<10 { do { let changed = health.report(.tcpFailure("x"), limits: HealthLimits(passive: passive)); #expect(!changed) } }
        #expect(health.state == .healthy)
        do { let changed = health.report(.mqttFailure(code: 5, "CONNACK 0x05 not authorized"), limits: HealthLimits(passive: {
            var p = passive
            p.mqttFailures = 1
            return p
        }())); #expect(changed) }
        #expect(health.reason == "CONNACK 0x05 not authorized")
    }
}

@Suite("checks: APISIX's schema and the mqtt probe")
struct HealthChecksValidationTests {
    func upstream(_ checks: JSONValue) throws -> Upstream {
        try Upstream(json: ["nodes": ["10.0.0.1:1883": 1, "10.0.0.2:1883": 1], "checks": checks])
    }

    @Test("defaults as APISIX, also where an object is left out")
    func defaults() throws {
        let checks = try #require(try upstream(["active": ["type": "mqtt"]]).checks)
        #expect(checks.active.type == .mqtt)
        #expect(checks.active.timeout == 1 && checks.active.concurrency == 10)
        #expect(checks.active.healthy.interval == 1 && checks.active.healthy.successes == 2)
        #expect(checks.active.unhealthy.tcpFailures == 2 && checks.active.unhealthy.timeouts == 3)
        #expect(checks.active.mqtt.protocolLevel == 4)
        #expect(checks.passive == nil)
    }

    @Test("every field is read and checked")
    func fields() throws {
        let checks = try #require(try upstream([
            "active": [
                "type": "mqtt", "timeout": 0.5, "concurrency": 3, "port": 1884,
                "healthy": ["interval": 2, "successes": 1],
                "unhealthy": ["interval": 1, "tcp_failures": 1, "timeouts": 2, "mqtt_failures": 1],
                "mqtt": ["client_id": "probe", "username": "u", "password": "p", "protocol_level": 5],
            ],
            "passive": ["type": "tcp", "healthy": ["successes": 0], "unhealthy": ["tcp_failures": 3, "timeouts": 0]],
        ]).checks)
        #expect(checks.active.port == 1884 && checks.active.mqtt.clientID == "probe" && checks.active.mqtt.protocolLevel == 5)
        #expect(checks.passive?.successes == 0 && checks.passive?.tcpFailures == 3 && checks.passive?.timeouts == 0)
    }

    @Test("refusals name the field", arguments: [
        (["passive": ["type": "tcp"]], "checks.active"),
        (["active": ["type": "grpc"]], "checks.active.type"),
        (["active": ["healthy": ["successes": 0]]], "checks.active.healthy.successes"),
        (["active": ["unhealthy": ["interval": 0]]], "checks.active.unhealthy.interval"),
        (["active": ["mqtt": ["protocol_level": 3]]], "checks.active.mqtt.protocol_level"),
        (["active": ["port": 70000]], "checks.active.port"),
        (["active": [:], "extra": 1], "checks.extra"),
    ] as [(JSONValue, String)])
    func refusals(checks: JSONValue, field: String) {
        #expect {
            try upstream(checks)
        } throws: { error in
            (error as? ValidationError)?.field == field
        }
    }
}

@Suite("Which nodes a route leaves out")
struct RouteNodeStatusTests {
    func target(_ address: String) -> HealthTarget {
        HealthTarget(key: .init(address: address, checks: HealthChecks(active: ActiveHealthCheck())), host: "10.0.0.1",
                     port: 1883)
    }

    @Test("unhealthy and drained nodes are left out; all of them left out means none")
    func exclusion() {
        let targets = [target("a:1"), target("b:1"), target("c:1")]
        let status = RouteNodeStatus(targets: targets, addresses: ["a:1", "b:1", "c:1"], weights: [1, 1, 0],
                                     owner: "route 1")
        status.update(draining: [])
        #expect(status.excluded() == nil)
        for _ in 0..<2 { _ = targets[0].report(.tcpFailure("refused"), active: true) }
        status.update(draining: [])
        #expect(status.excluded()?.sorted == [0])
        // b is the last pickable node (c has weight 0): draining it too would leave none, so none is left out.
        status.update(draining: ["b:1"])
        #expect(status.excluded() == nil)
        status.update(draining: ["c:1"])
        #expect(status.excluded()?.sorted == [0, 2])
    }

    @Test("an upstream with one node has no targets: it is used whatever its health")
    func singleNode() throws {
        let monitor = HealthMonitor(registry: ConnectionRegistry(), logger: .init(label: "t"), instance: "t",
                                    loop: EmbeddedEventLoop())
        var upstream = Upstream(type: .chash, nodes: [UpstreamNode(host: "10.0.0.1", port: 1883)], key: "mqtt_client_id")
        upstream.checks = HealthChecks(active: ActiveHealthCheck())
        let one = monitor.status(for: upstream, nodes: [BalancerNode(host: "10.0.0.1", port: 1883)], owner: "r")
        #expect(one.targets.allSatisfy { $0 == nil })
        upstream.nodes.append(UpstreamNode(host: "10.0.0.2", port: 1883))
        let two = monitor.status(for: upstream, nodes: [BalancerNode(host: "10.0.0.1", port: 1883),
                                                        BalancerNode(host: "10.0.0.2", port: 1883)], owner: "r")
        #expect(two.targets.allSatisfy { $0 != nil })
        // The same node under the same check is one target, shared.
        let again = monitor.status(for: upstream, nodes: [BalancerNode(host: "10.0.0.1", port: 1883),
                                                          BalancerNode(host: "10.0.0.2", port: 1883)], owner: "s")
        #expect(again.targets[0] === two.targets[0])
    }
}

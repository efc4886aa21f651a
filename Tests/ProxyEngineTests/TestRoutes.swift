import LoadBalancing
import ProxyModel
import ProxyTestSupport

/// A stream route body with the mqtt-proxy plugin over the given upstream nodes.
func mqttRoute(level: Int = 4, name: String = "MQTT", type: String = "chash", key: String = "mqtt_client_id",
               nodes: [RecordingUpstream], weights: [Int]? = nil, extra: [String: JSONValue] = [:],
               upstreamExtra: [String: JSONValue] = [:]) -> JSONValue
{
    var upstream: JSONValue = [
        "type": .string(type),
        "nodes": .array(nodes.enumerated().map { i, n in
            ["host": .string(n.host), "port": .int(n.port), "weight": .int(weights?[i] ?? 1)]
        }),
    ]
    if type == "chash" { upstream["key"] = .string(key) }
    for (k, v) in upstreamExtra { upstream[k] = v }
    var route: JSONValue = [
        "plugins": ["mqtt-proxy": ["protocol_name": .string(name), "protocol_level": .int(level)]],
        "upstream": upstream,
    ]
    for (k, v) in extra { route[k] = v }
    return route
}

/// Where APISIX's ring puts `key` among `nodes` (all weight 1 unless given).
func predictedNode(_ key: String, _ nodes: [RecordingUpstream], weights: [Int]? = nil) -> String {
    let ring = ConsistentHashRing(servers: nodes.enumerated().map { ($1.address, weights?[$0] ?? 1) })
    return nodes[ring.lookup(key)!.node].address
}

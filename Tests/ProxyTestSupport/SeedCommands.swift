import Foundation

/// The plugin document's three curl commands, exactly as written there.
public enum SeedCommands {
    public static let putRoundRobin = """
        curl http://127.0.0.1:9180/apisix/admin/stream_routes/1 \\
        -H 'X-API-KEY: edd1c9f034335f136f87ad84b625c8f1' -X PUT -d '
        {
            "plugins": {
                "mqtt-proxy": {
                    "protocol_name": "MQTT",
                    "protocol_level": 4
                }
            },
            "upstream": {
                "type": "roundrobin",
                "nodes": [{
                    "host": "127.0.0.1",
                    "port": 1980,
                    "weight": 1
                }]
            }
        }'
        """

    public static let putChash = """
        curl http://127.0.0.1:9180/apisix/admin/stream_routes/1 \\
        -H 'X-API-KEY: edd1c9f034335f136f87ad84b625c8f1' -X PUT -d '
        {
            "plugins": {
                "mqtt-proxy": {
                    "protocol_name": "MQTT",
                    "protocol_level": 4
                }
            },
            "upstream": {
                "type": "chash",
                "key": "mqtt_client_id",
                "nodes": [
                {
                    "host": "127.0.0.1",
                    "port": 1995,
                    "weight": 1
                },
                {
                    "host": "127.0.0.2",
                    "port": 1995,
                    "weight": 1
                }
                ]
            }
        }'
        """

    public static let delete = """
        curl http://127.0.0.1:9180/apisix/admin/stream_routes/1 \\
        -H 'X-API-KEY: edd1c9f034335f136f87ad84b625c8f1' -X DELETE
        """

    /// The mTLS section's command; `${your_sni_name}` is the one placeholder the document leaves to the reader.
    public static func putMTLSRoute(sni: String) -> String {
        """
        curl 127.0.0.1:9180/apisix/admin/stream_routes/1 \\
        -H 'X-API-KEY: edd1c9f034335f136f87ad84b625c8f1' -X PUT -d '
        {
            "plugins": {
                "mqtt-proxy": {
                    "protocol_name": "MQTT",
                    "protocol_level": 4
                }
            },
            "sni": "${your_sni_name}",
            "upstream": {
                "nodes": {
                    "127.0.0.1:1980": 1
                },
                "type": "roundrobin"
            }
        }'
        """.replacingOccurrences(of: "${your_sni_name}", with: sni)
    }
}

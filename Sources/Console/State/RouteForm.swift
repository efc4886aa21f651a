import Foundation
import ProxyModel

/// The add/edit route form: one text field per route attribute, validated by the model's own validator.
public struct RouteForm: Sendable, Equatable {
    /// The form's fields, in order.
    public enum Field: Int, Sendable, CaseIterable {
        case id, desc, serverPort, remoteAddr, sni, protocolName, protocolLevel, type, key, nodes

        public var label: String {
            switch self {
            case .id: return "id"
            case .desc: return "desc"
            case .serverPort: return "server_port"
            case .remoteAddr: return "remote_addr"
            case .sni: return "sni"
            case .protocolName: return "protocol_name"
            case .protocolLevel: return "protocol_level"
            case .type: return "upstream type"
            case .key: return "chash key"
            case .nodes: return "nodes"
            }
        }

        public var hint: String {
            switch self {
            case .id: return "1–64 of a-z A-Z 0-9 - _ ."
            case .desc: return "free text"
            case .serverPort: return "optional, 1–65535"
            case .remoteAddr: return "optional address or CIDR"
            case .sni: return "optional host name"
            case .protocolName: return "MQTT (MQIsdp for 3.1)"
            case .protocolLevel: return "3, 4 or 5"
            case .type: return "chash, roundrobin or least_conn"
            case .key: return "mqtt_client_id, remote_addr, …"
            case .nodes: return "host:port=weight, …"
            }
        }
    }

    /// nil when adding a new route; the id being edited otherwise.
    public var editing: String?
    public var values: [Field: String]
    public var focus: Field = .id
    /// The validator's message for the current values, shown under the fields.
    public var error: String?
    /// The JSON of the route before editing (fields the form does not show are kept).
    public var original: JSONValue?

    /// An empty form with sensible defaults for a new MQTT route.
    public static func new(suggestedID: String) -> RouteForm {
        RouteForm(editing: nil, values: [
            .id: suggestedID, .protocolName: "MQTT", .protocolLevel: "4", .type: "chash", .key: "mqtt_client_id",
        ])
    }

    /// A form filled from a stored route (its inline upstream; routes using `upstream_id` keep it).
    public static func edit(id: String, raw: JSONValue, upstream: Upstream?) -> RouteForm {
        var v: [Field: String] = [.id: id]
        v[.desc] = raw["desc"]?.stringValue ?? ""
        v[.serverPort] = raw["server_port"]?.intValue.map(String.init) ?? ""
        v[.remoteAddr] = raw["remote_addr"]?.stringValue ?? ""
        v[.sni] = raw["sni"]?.stringValue ?? ""
        let plugin = raw["plugins"]?["mqtt-proxy"]
        v[.protocolName] = plugin?["protocol_name"]?.stringValue ?? (plugin == nil ? "" : "MQTT")
        v[.protocolLevel] = plugin?["protocol_level"]?.intValue.map(String.init) ?? ""
        if let upstream {
            v[.type] = upstream.type.rawValue
            v[.key] = upstream.key ?? ""
            v[.nodes] = upstream.nodes.map { "\($0.address)=\($0.weight)" }.joined(separator: ", ")
        }
        return RouteForm(editing: id, values: v, original: raw)
    }

    public func value(_ f: Field) -> String { values[f] ?? "" }

    /// The route body these values describe, or the reason they do not describe one.
    public func body() -> Result<(id: String, body: JSONValue), ValidationError> {
        let id = value(.id).trimmingCharacters(in: .whitespaces)
        var body: JSONValue = original ?? .object([:])
        func set(_ key: String, _ text: String, int: Bool = false) throws(ValidationError) {
            let t = text.trimmingCharacters(in: .whitespaces)
            if t.isEmpty {
                body[key] = nil
                if case .object(var d) = body {
                    d.removeValue(forKey: key)
                    body = .object(d)
                }
            } else if int {
                guard let n = Int(t) else { throw ValidationError(field: key, "invalid \(key): \(t) is not a number") }
                body[key] = .int(n)
            } else {
                body[key] = .string(t)
            }
        }
        do {
            for key in ["id", "create_time", "update_time"] { try set(key, "") }
            try set("desc", value(.desc))
            try set("server_port", value(.serverPort), int: true)
            try set("remote_addr", value(.remoteAddr))
            try set("sni", value(.sni))
            // The form edits mqtt-proxy's name and level; other plugins (limit-conn) and other mqtt-proxy
            // settings (connect_rate) are kept as they were.
            let level = value(.protocolLevel).trimmingCharacters(in: .whitespaces)
            var plugins: JSONValue = body["plugins"] ?? .object([:])
            if level.isEmpty && value(.protocolName).trimmingCharacters(in: .whitespaces).isEmpty {
                plugins = RouteForm.removing("mqtt-proxy", from: plugins)
            } else {
                guard let n = Int(level) else {
                    throw ValidationError(field: "plugins.mqtt-proxy.protocol_level",
                                          "invalid protocol_level: \(level.isEmpty ? "empty" : level) is not a number")
                }
                let name = value(.protocolName).trimmingCharacters(in: .whitespaces)
                var plugin: JSONValue = plugins["mqtt-proxy"] ?? .object([:])
                plugin["protocol_name"] = .string(name.isEmpty ? "MQTT" : name)
                plugin["protocol_level"] = .int(n)
                plugins["mqtt-proxy"] = plugin
            }
            if plugins.objectValue?.isEmpty ?? true {
                body = RouteForm.removing("plugins", from: body)
            } else {
                body["plugins"] = plugins
            }
            if body["upstream_id"] == nil || !value(.nodes).isEmpty {
                var upstream: JSONValue = body["upstream"] ?? .object([:])
                upstream["type"] = .string(value(.type).trimmingCharacters(in: .whitespaces))
                let key = value(.key).trimmingCharacters(in: .whitespaces)
                upstream["key"] = key.isEmpty ? nil : .string(key)
                if key.isEmpty, case .object(var d) = upstream {
                    d.removeValue(forKey: "key")
                    upstream = .object(d)
                }
                let nodes = try RouteForm.parseNodes(value(.nodes))
                guard nodes.objectValue?.isEmpty == false else {
                    throw ValidationError(field: "upstream.nodes", "missing nodes: list at least one host:port")
                }
                upstream["nodes"] = nodes
                if case .object(var d) = body {
                    d.removeValue(forKey: "upstream_id")
                    body = .object(d)
                }
                body["upstream"] = upstream
            }
            _ = try StreamRoute(json: body, id: id.isEmpty ? nil : id)
            return .success((id, body))
        } catch let error as ValidationError {
            return .failure(error)
        } catch {
            return .failure(ValidationError(field: "", "\(error)"))
        }
    }

    /// `127.0.0.1:1883=1, broker:1884` → `{"127.0.0.1:1883": 1, "broker:1884": 1}`.
    static func parseNodes(_ text: String) throws(ValidationError) -> JSONValue {
        var nodes = JSONValue.emptyObject
        for part in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !part.isEmpty {
            let pieces = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            var weight = 1
            if pieces.count == 2 {
                guard let w = Int(pieces[1]), w >= 0 else {
                    throw ValidationError(field: "upstream.nodes", "invalid nodes: weight of \(pieces[0]) must be an integer ≥ 0")
                }
                weight = w
            }
            nodes[pieces[0]] = .int(weight)
        }
        return nodes
    }

    /// `object` without `key`.
    static func removing(_ key: String, from object: JSONValue) -> JSONValue {
        guard case .object(var d) = object else { return object }
        d.removeValue(forKey: key)
        return .object(d)
    }
}

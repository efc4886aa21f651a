import ProxyModel

/// PATCH semantics of the admin API.
enum JSONMerge {
    /// RFC 7396 merge patch: objects merge recursively, `null` removes a key, anything else replaces.
    static func mergePatch(_ target: JSONValue, _ patch: JSONValue) -> JSONValue {
        guard case .object(let p) = patch else { return patch }
        var result: JSONValue = target.objectValue != nil ? target : .object([:])
        for (key, value) in p {
            if value == .null {
                if case .object(var dict) = result {
                    dict.removeValue(forKey: key)
                    result = .object(dict)
                }
            } else {
                result[key] = mergePatch(result[key] ?? .null, value)
            }
        }
        return result
    }

    /// Replaces the value at `path` (`["nodes"]`, `["timeout", "read"]`), creating objects on the way.
    static func replace(in target: JSONValue, at path: [String], with value: JSONValue) -> JSONValue {
        guard let first = path.first else { return value }
        var result: JSONValue = target.objectValue != nil ? target : .object([:])
        result[first] = replace(in: result[first] ?? .null, at: Array(path.dropFirst()), with: value)
        return result
    }
}

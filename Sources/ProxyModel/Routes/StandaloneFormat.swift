import Foundation

/// APISIX's standalone file layout: `stream_routes:`, `upstreams:`, `ssls:` lists, closed by a `#END` line.
public enum StandaloneFormat {
    /// The marker APISIX requires as the last line, so a half-written file is never loaded.
    public static let endMarker = "#END"

    /// Decodes a standalone file; returns every problem found (each with its position) rather than the first.
    public static func decode(text: String, file: String) -> (ProxyResources, [SourceError]) {
        var problems: [SourceError] = []
        var resources = ProxyResources()
        let lastLine = text.split(whereSeparator: \.isNewline).last.map { $0.trimmingCharacters(in: .whitespaces) }
        if lastLine != endMarker {
            problems.append(SourceError(file: file, position: nil,
                                        message: "missing \(endMarker) line at the end (file incomplete?)"))
        }
        let doc: YAMLDocument
        do {
            doc = try YAMLDocument(text: text, file: file)
        } catch {
            problems.append(error)
            return (resources, problems)
        }
        guard case .object(let top) = doc.root else {
            if doc.root != .null {
                problems.append(SourceError(file: file, position: doc.position(of: ""),
                                            message: "expected a mapping with stream_routes, upstreams, ssls"))
            }
            return (resources, problems)
        }
        var index = 1
        var seen: Set<String> = []
        var listIndex: [String: Int] = [:]
        for (key, value) in top {
            guard let kind = ResourceKind(rawValue: key) else {
                if !["routes", "services", "plugin_configs", "consumers", "global_rules", "plugin_metadata",
                     "protos", "plugins", "stream_plugins", "consumer_groups", "secrets"].contains(key) {
                    problems.append(SourceError(file: file, position: doc.position(of: key),
                                                message: "unknown section \(key)"))
                }
                continue
            }
            if value == .null { continue }
            guard case .array(let items) = value else {
                problems.append(SourceError(file: file, position: doc.position(of: key),
                                            message: "\(key) must be a list"))
                continue
            }
            for (i, item) in items.enumerated() {
                let path = "\(key)[\(i)]"
                do {
                    guard let idValue = item["id"] else {
                        throw ValidationError(field: "id", "missing id")
                    }
                    let id = try ObjectID.parse(idValue)
                    guard seen.insert("\(kind.rawValue)/\(id)").inserted else {
                        throw ValidationError(field: "id", "duplicate \(kind.noun) id \(id)")
                    }
                    listIndex["\(kind.rawValue)/\(id)"] = i
                    try resources.put(kind: kind, id: id, json: item, index: index)
                    index += 1
                } catch let error as ValidationError {
                    let fieldPath = error.field.isEmpty ? path : "\(path).\(error.field)"
                    let label = item["id"].map { " (id \($0.stringValue ?? $0.jsonText))" } ?? ""
                    problems.append(SourceError(file: file, position: doc.position(of: fieldPath),
                                                message: "\(path)\(label): \(error.message)"))
                } catch {
                    problems.append(SourceError(file: file, position: doc.position(of: path), message: "\(error)"))
                }
            }
        }
        for (kind, id, error) in resources.referenceErrors() {
            let i = listIndex["\(kind.rawValue)/\(id)"] ?? 0
            let path = "\(kind.rawValue)[\(i)].\(error.field)"
            problems.append(SourceError(file: file, position: doc.position(of: path),
                                        message: "\(kind.rawValue)[\(i)] (id \(id)): \(error.message)"))
        }
        return (resources, problems)
    }

    /// Writes resources in the standalone layout, ending with `#END`.
    public static func encode(_ resources: ProxyResources) -> String {
        var out = "# mqtt-proxy store (APISIX standalone format). Edits are picked up live; keep the last line.\n"
        for kind in ResourceKind.allCases {
            let objects = resources.rawObjects(kind)
            if objects.isEmpty {
                out += "\(kind.rawValue): []\n"
                continue
            }
            out += "\(kind.rawValue):\n"
            for object in objects {
                out += YAMLWriter.listItem(object, indent: 2)
            }
        }
        out += endMarker + "\n"
        return out
    }
}

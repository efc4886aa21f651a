import OrderedCollections
import Yams

/// A position in a source file, 1-based, as shown to operators (`file:line:column`).
public struct SourcePosition: Sendable, Hashable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }
    public var description: String { "\(line):\(column)" }
}

/// A problem found in a file, located by line and column when it can be.
public struct SourceError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var position: SourcePosition?
    public var message: String
    public init(file: String, position: SourcePosition?, message: String) {
        self.file = file
        self.position = position
        self.message = message
    }
    public var description: String {
        if let position { return "\(file):\(position): \(message)" }
        return "\(file): \(message)"
    }
}

/// A YAML file converted to `JSONValue`, with the source position of every value by its field path.
public struct YAMLDocument: Sendable {
    /// The document's content (`.null` for an empty file).
    public var root: JSONValue
    /// Field path (`stream_routes[0].upstream.nodes`) → where that value starts in the file.
    public var positions: [String: SourcePosition]

    /// Parses YAML text; a syntax error names its line and column.
    public init(text: String, file: String) throws(SourceError) {
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw YAMLDocument.sourceError(error, file: file)
        } catch {
            throw SourceError(file: file, position: nil, message: "\(error)")
        }
        var positions: [String: SourcePosition] = [:]
        if let node {
            root = try YAMLDocument.convert(node, path: "", positions: &positions, file: file)
        } else {
            root = .null
        }
        self.positions = positions
    }

    /// The position of `path`, or of its nearest ancestor that has one.
    public func position(of path: String) -> SourcePosition? {
        var p = path
        while true {
            if let pos = positions[p] { return pos }
            guard let cut = p.lastIndex(where: { $0 == "." || $0 == "[" }) else { return positions[""] }
            p = String(p[..<cut])
        }
    }

    private static func sourceError(_ error: YamlError, file: String) -> SourceError {
        switch error {
        case .scanner(let context, let problem, let mark, _),
            .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let ctx = context.map { "\($0.text) " } ?? ""
            return SourceError(
                file: file, position: SourcePosition(line: mark.line, column: mark.column),
                message: "YAML syntax error: \(ctx)\(problem)")
        case .reader(let problem, let offset, _, _):
            return SourceError(file: file, position: nil,
                               message: "YAML read error: \(problem)" + (offset.map { " at byte \($0)" } ?? ""))
        default:
            return SourceError(file: file, position: nil, message: "YAML error: \(error)")
        }
    }

    private static func convert(
        _ node: Node, path: String, positions: inout [String: SourcePosition], file: String
    ) throws(SourceError) -> JSONValue {
        let position = node.mark.map { SourcePosition(line: $0.line, column: $0.column) }
        if let position { positions[path] = position }
        switch node {
        case .scalar(let scalar):
            switch Tag.Name(rawValue: node.tag.rawValue) {
            case .null: return .null
            case .bool: return node.bool.map(JSONValue.bool) ?? .string(scalar.string)
            case .int: return node.int.map(JSONValue.int) ?? .string(scalar.string)
            case .float: return node.float.map(JSONValue.double) ?? .string(scalar.string)
            default: return .string(scalar.string)
            }
        case .sequence(let seq):
            var items: [JSONValue] = []
            for (i, item) in seq.enumerated() {
                items.append(try convert(item, path: "\(path)[\(i)]", positions: &positions, file: file))
            }
            return .array(items)
        case .mapping(let mapping):
            var dict = OrderedDictionary<String, JSONValue>()
            for (keyNode, valueNode) in mapping {
                guard case .scalar = keyNode, let key = keyNode.string else {
                    throw SourceError(file: file, position: keyNode.mark.map { SourcePosition(line: $0.line, column: $0.column) },
                                      message: "mapping keys must be plain strings")
                }
                if dict[key] != nil {
                    throw SourceError(file: file, position: keyNode.mark.map { SourcePosition(line: $0.line, column: $0.column) },
                                      message: "duplicate key \"\(key)\"")
                }
                let childPath = path.isEmpty ? key : "\(path).\(key)"
                dict[key] = try convert(valueNode, path: childPath, positions: &positions, file: file)
            }
            return .object(dict)
        case .alias:
            throw SourceError(file: file, position: position, message: "YAML aliases are not supported")
        }
    }
}

import Yams

/// Writes `JSONValue`s as block-style YAML that reads back to the same values (strings stay strings).
public enum YAMLWriter {
    /// The whole value as a YAML document.
    public static func document(_ value: JSONValue) -> String {
        (try? Yams.serialize(node: node(value), sortKeys: false)) ?? value.prettyJSONText
    }

    /// One `- ` list item holding `value`, indented by `indent` spaces.
    static func listItem(_ value: JSONValue, indent: Int) -> String {
        let body = document(.array([value]))
        let pad = String(repeating: " ", count: indent)
        return body.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.isEmpty }
            .map { pad + $0 + "\n" }
            .joined()
    }

    static func node(_ value: JSONValue) -> Node {
        switch value {
        case .null: return Node("null", Tag(.null))
        case .bool(let b): return Node(b ? "true" : "false", Tag(.bool))
        case .int(let i): return Node(String(i), Tag(.int))
        case .double(let d): return Node("\(d)", Tag(.float))
        case .string(let s): return Node(s, Tag(.str), style(for: s))
        case .array(let items): return Node(items.map(node), Tag(.seq), .block)
        case .object(let dict):
            return Node(dict.map { (Node($0.key, Tag(.str), style(for: $0.key)), node($0.value)) }, Tag(.map), .block)
        }
    }

    private static let reservedWords: Set<String> = [
        "true", "false", "yes", "no", "on", "off", "y", "n", "null", "~", "",
    ]

    private static func style(for s: String) -> Node.Scalar.Style {
        if s.contains("\n") { return .literal }
        if reservedWords.contains(s.lowercased()) { return .doubleQuoted }
        guard let first = s.unicodeScalars.first, first.properties.isAlphabetic || first == "_" else {
            return .doubleQuoted
        }
        let plain = s.unicodeScalars.allSatisfy { c in
            (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || c == "_" || c == "-"
                || c == "." || c == "/"
        }
        return plain ? .plain : .doubleQuoted
    }
}

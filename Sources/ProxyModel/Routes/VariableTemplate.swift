/// A `$variable` template (`vars_combinations` chash keys, `var_combination` limit-conn keys), split once into
/// literal text and variable names.
public struct VariableTemplate: Sendable, Hashable {
    public enum Part: Sendable, Hashable {
        case literal(String)
        case variable(String)
    }

    public let parts: [Part]

    /// Splits `text`: `$` followed by letters, digits and `_` is a variable; everything else is literal.
    public init(_ text: String) {
        var parts: [Part] = []
        var literal = ""
        var i = text.startIndex
        while i < text.endIndex {
            guard text[i] == "$" else {
                literal.append(text[i])
                i = text.index(after: i)
                continue
            }
            var j = text.index(after: i)
            while j < text.endIndex, text[j].isLetter || text[j].isNumber || text[j] == "_" {
                j = text.index(after: j)
            }
            if !literal.isEmpty { parts.append(.literal(literal)) }
            literal = ""
            parts.append(.variable(String(text[text.index(after: i)..<j])))
            i = j
        }
        if !literal.isEmpty { parts.append(.literal(literal)) }
        self.parts = parts
    }

    /// The names of the variables, in order.
    public var variables: [String] {
        parts.compactMap { if case .variable(let name) = $0 { name } else { nil } }
    }

    /// The text with each variable replaced by its value ("" when it has none), and how many had a value.
    public func expand(_ value: (String) -> String?) -> (text: String, resolved: Int) {
        var out = ""
        var resolved = 0
        for part in parts {
            switch part {
            case .literal(let s): out += s
            case .variable(let name):
                if let v = value(name) {
                    out += v
                    resolved += 1
                }
            }
        }
        return (out, resolved)
    }
}

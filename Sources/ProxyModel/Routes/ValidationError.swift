/// Why a stream route, upstream or ssl object was refused; `message` names the offending field.
public struct ValidationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Path of the field inside the object (`upstream.nodes[1].port`), empty when it concerns the whole object.
    public var field: String
    /// The operator-facing message, e.g. `invalid remote_addr: :/8`.
    public var message: String

    public init(field: String, _ message: String) {
        self.field = field
        self.message = message
    }

    public var description: String { message }

    /// The same error seen from an enclosing object (`nodes[0]` inside `upstream`).
    func nested(under prefix: String) -> ValidationError {
        ValidationError(field: field.isEmpty ? prefix : "\(prefix).\(field)", message)
    }
}

/// Walks one JSON object field by field and remembers which keys were read, so leftovers are reported.
struct ObjectReader {
    let object: [String: JSONValue]
    let order: [String]
    let prefix: String
    private(set) var seen: Set<String> = []

    init(_ value: JSONValue, prefix: String = "", what: String) throws(ValidationError) {
        guard case .object(let dict) = value else {
            throw ValidationError(field: prefix, "invalid \(what): expected an object, got \(value.typeName)")
        }
        self.object = Dictionary(uniqueKeysWithValues: dict.map { ($0.key, $0.value) })
        self.order = Array(dict.keys)
        self.prefix = prefix
    }

    func path(_ key: String) -> String { prefix.isEmpty ? key : "\(prefix).\(key)" }

    func error(_ key: String, _ message: String) -> ValidationError {
        ValidationError(field: path(key), message)
    }

    /// The raw value of `key` (nil when absent or JSON null).
    mutating func value(_ key: String) -> JSONValue? {
        seen.insert(key)
        guard let v = object[key], v != .null else { return nil }
        return v
    }

    mutating func string(_ key: String, minLength: Int = 0, maxLength: Int = .max) throws(ValidationError) -> String? {
        guard let v = value(key) else { return nil }
        guard case .string(let s) = v else { throw error(key, "invalid \(key): expected a string, got \(v.typeName)") }
        let count = s.count
        if count < minLength {
            throw error(key, "invalid \(key): string too short, minimum length \(minLength)")
        }
        if count > maxLength {
            throw error(key, "invalid \(key): string too long, maximum length \(maxLength)")
        }
        return s
    }

    mutating func integer(_ key: String, range: ClosedRange<Int>? = nil) throws(ValidationError) -> Int? {
        guard let v = value(key) else { return nil }
        guard let i = v.intValue else { throw error(key, "invalid \(key): expected an integer, got \(v.typeName)") }
        if let range, !range.contains(i) {
            throw error(key, "invalid \(key): \(i) is out of range \(range.lowerBound)…\(range.upperBound)")
        }
        return i
    }

    mutating func number(_ key: String, minimum: Double? = nil, exclusive: Bool = false) throws(ValidationError)
        -> Double?
    {
        guard let v = value(key) else { return nil }
        guard let d = v.doubleValue else { throw error(key, "invalid \(key): expected a number, got \(v.typeName)") }
        if let minimum, exclusive ? d <= minimum : d < minimum {
            throw error(key, "invalid \(key): \(d) must be \(exclusive ? ">" : "≥") \(minimum)")
        }
        return d
    }

    mutating func bool(_ key: String) throws(ValidationError) -> Bool? {
        guard let v = value(key) else { return nil }
        guard case .bool(let b) = v else { throw error(key, "invalid \(key): expected a boolean, got \(v.typeName)") }
        return b
    }

    /// `labels`: an object of non-empty strings without white space.
    mutating func labels(_ key: String) throws(ValidationError) -> [String: String] {
        guard let v = value(key) else { return [:] }
        guard case .object(let dict) = v else {
            throw error(key, "invalid \(key): expected an object, got \(v.typeName)")
        }
        var out: [String: String] = [:]
        for (k, item) in dict {
            guard case .string(let s) = item, !s.isEmpty, s.count <= 256,
                  !s.contains(where: { $0.isWhitespace })
            else {
                throw error("\(key).\(k)", "invalid \(key).\(k): label values are 1–256 characters without spaces")
            }
            out[k] = s
        }
        return out
    }

    /// Throws for the first key that was never read.
    func rejectUnknown() throws(ValidationError) {
        for key in order where !seen.contains(key) {
            throw error(key, "additional properties forbidden, found \(key)")
        }
    }
}

/// Object ids: 1–64 characters of `[a-zA-Z0-9-_.]`, or an integer ≥ 1 (kept as its decimal string).
public enum ObjectID {
    /// Normalises an id value from JSON, or explains why it is not one.
    public static func parse(_ value: JSONValue, field: String = "id") throws(ValidationError) -> String {
        switch value {
        case .int(let i):
            guard i >= 1 else { throw ValidationError(field: field, "invalid \(field): integer ids start at 1") }
            return String(i)
        case .string(let s):
            try validate(s, field: field)
            return s
        default:
            throw ValidationError(field: field, "invalid \(field): expected a string or an integer, got \(value.typeName)")
        }
    }

    /// Checks a string id's length and characters.
    public static func validate(_ s: String, field: String = "id") throws(ValidationError) {
        guard (1...64).contains(s.count) else {
            throw ValidationError(field: field, "invalid \(field): must be 1–64 characters")
        }
        let ok = s.unicodeScalars.allSatisfy { c in
            (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || c == "-" || c == "_"
                || c == "."
        }
        guard ok else {
            throw ValidationError(field: field, "invalid \(field): \(s) (allowed characters: a-z A-Z 0-9 - _ .)")
        }
    }
}

import OrderedCollections

/// Why a JSON text could not be parsed, with the byte offset where parsing stopped.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public var offset: Int
    public var reason: String
    public var description: String { "invalid JSON at byte \(offset): \(reason)" }
}

/// A strict RFC 8259 JSON parser that keeps key order and tells integers from other numbers.
public enum JSONParser {
    /// Parses a complete JSON text; anything but white space after the value is an error.
    public static func parse(_ text: String) throws(JSONParseError) -> JSONValue {
        try parse(Array(text.utf8))
    }

    /// Parses a complete JSON text from UTF-8 bytes.
    public static func parse(_ bytes: [UInt8]) throws(JSONParseError) -> JSONValue {
        var reader = Reader(bytes: bytes)
        reader.skipSpace()
        let value = try reader.value(depth: 0)
        reader.skipSpace()
        if reader.pos != bytes.count { throw reader.fail("unexpected data after the JSON value") }
        return value
    }

    private struct Reader {
        let bytes: [UInt8]
        var pos = 0
        static let maxDepth = 128

        func fail(_ reason: String) -> JSONParseError { JSONParseError(offset: pos, reason: reason) }

        var peek: UInt8? { pos < bytes.count ? bytes[pos] : nil }

        mutating func skipSpace() {
            while let b = peek, b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 { pos += 1 }
        }

        mutating func expect(_ literal: String, _ value: JSONValue) throws(JSONParseError) -> JSONValue {
            for b in literal.utf8 {
                guard peek == b else { throw fail("invalid literal, expected \(literal)") }
                pos += 1
            }
            return value
        }

        mutating func value(depth: Int) throws(JSONParseError) -> JSONValue {
            guard depth < Reader.maxDepth else { throw fail("nesting deeper than \(Reader.maxDepth)") }
            guard let b = peek else { throw fail("unexpected end of input") }
            switch b {
            case UInt8(ascii: "{"): return try object(depth: depth)
            case UInt8(ascii: "["): return try array(depth: depth)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): return try expect("true", .bool(true))
            case UInt8(ascii: "f"): return try expect("false", .bool(false))
            case UInt8(ascii: "n"): return try expect("null", .null)
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
            default: throw fail("unexpected character '\(Character(Unicode.Scalar(b)))'")
            }
        }

        mutating func object(depth: Int) throws(JSONParseError) -> JSONValue {
            pos += 1
            var dict = OrderedDictionary<String, JSONValue>()
            skipSpace()
            if peek == UInt8(ascii: "}") { pos += 1; return .object(dict) }
            while true {
                skipSpace()
                guard peek == UInt8(ascii: "\"") else { throw fail("expected a string key") }
                let key = try string()
                skipSpace()
                guard peek == UInt8(ascii: ":") else { throw fail("expected ':' after key \"\(key)\"") }
                pos += 1
                skipSpace()
                if dict[key] != nil { throw fail("duplicate key \"\(key)\"") }
                dict[key] = try value(depth: depth + 1)
                skipSpace()
                switch peek {
                case UInt8(ascii: ","): pos += 1
                case UInt8(ascii: "}"): pos += 1; return .object(dict)
                default: throw fail("expected ',' or '}' in object")
                }
            }
        }

        mutating func array(depth: Int) throws(JSONParseError) -> JSONValue {
            pos += 1
            var items: [JSONValue] = []
            skipSpace()
            if peek == UInt8(ascii: "]") { pos += 1; return .array(items) }
            while true {
                skipSpace()
                items.append(try value(depth: depth + 1))
                skipSpace()
                switch peek {
                case UInt8(ascii: ","): pos += 1
                case UInt8(ascii: "]"): pos += 1; return .array(items)
                default: throw fail("expected ',' or ']' in array")
                }
            }
        }

        mutating func hex4() throws(JSONParseError) -> UInt32 {
            guard pos + 4 <= bytes.count else { throw fail("truncated \\u escape") }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let c = bytes[pos]
                let d: UInt32
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
                case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a") + 10)
                case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A") + 10)
                default: throw fail("invalid hex digit in \\u escape")
                }
                v = v << 4 | d
                pos += 1
            }
            return v
        }

        mutating func string() throws(JSONParseError) -> String {
            pos += 1
            var out: [UInt8] = []
            while true {
                guard let b = peek else { throw fail("unterminated string") }
                pos += 1
                switch b {
                case UInt8(ascii: "\""):
                    guard let s = String(validating: out, as: UTF8.self) else {
                        throw fail("string is not valid UTF-8")
                    }
                    return s
                case UInt8(ascii: "\\"):
                    guard let e = peek else { throw fail("unterminated escape") }
                    pos += 1
                    switch e {
                    case UInt8(ascii: "\""): out.append(0x22)
                    case UInt8(ascii: "\\"): out.append(0x5C)
                    case UInt8(ascii: "/"): out.append(0x2F)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "u"):
                        var scalar = try hex4()
                        if (0xD800...0xDBFF).contains(scalar) {
                            guard peek == UInt8(ascii: "\\"), pos + 1 < bytes.count, bytes[pos + 1] == UInt8(ascii: "u")
                            else { throw fail("unpaired surrogate in \\u escape") }
                            pos += 2
                            let low = try hex4()
                            guard (0xDC00...0xDFFF).contains(low) else { throw fail("invalid low surrogate") }
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        } else if (0xDC00...0xDFFF).contains(scalar) {
                            throw fail("unpaired surrogate in \\u escape")
                        }
                        guard let u = Unicode.Scalar(scalar) else { throw fail("invalid \\u escape") }
                        out.append(contentsOf: Array(String(Character(u)).utf8))
                    default: throw fail("invalid escape character")
                    }
                case 0x00..<0x20:
                    throw fail("control character in string")
                default:
                    out.append(b)
                }
            }
        }

        mutating func number() throws(JSONParseError) -> JSONValue {
            let start = pos
            var isInteger = true
            if peek == UInt8(ascii: "-") { pos += 1 }
            guard let first = peek, first >= UInt8(ascii: "0"), first <= UInt8(ascii: "9") else {
                throw fail("invalid number")
            }
            if first == UInt8(ascii: "0") {
                pos += 1
            } else {
                while let d = peek, d >= UInt8(ascii: "0"), d <= UInt8(ascii: "9") { pos += 1 }
            }
            if peek == UInt8(ascii: ".") {
                isInteger = false
                pos += 1
                guard let d = peek, d >= UInt8(ascii: "0"), d <= UInt8(ascii: "9") else {
                    throw fail("digit expected after '.'")
                }
                while let d = peek, d >= UInt8(ascii: "0"), d <= UInt8(ascii: "9") { pos += 1 }
            }
            if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
                isInteger = false
                pos += 1
                if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { pos += 1 }
                guard let d = peek, d >= UInt8(ascii: "0"), d <= UInt8(ascii: "9") else {
                    throw fail("digit expected in exponent")
                }
                while let d = peek, d >= UInt8(ascii: "0"), d <= UInt8(ascii: "9") { pos += 1 }
            }
            let text = String(decoding: bytes[start..<pos], as: UTF8.self)
            if isInteger, let i = Int(text) { return .int(i) }
            guard let d = Double(text) else { throw JSONParseError(offset: start, reason: "invalid number") }
            // 1e400 would become infinity, which JSON cannot write back (found by the json fuzz target).
            guard d.isFinite else { throw JSONParseError(offset: start, reason: "number out of range: \(text)") }
            return .double(d)
        }
    }
}

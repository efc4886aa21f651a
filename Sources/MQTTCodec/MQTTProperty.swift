import NIOCore

/// One MQTT 5 property: an identifier and its typed value (MQTT 5 §2.2.2.2).
public struct MQTTProperty: Sendable, Hashable, CustomStringConvertible {
    /// Which property this is.
    public var identifier: Identifier
    /// The property's value; its case must match `identifier.valueKind`.
    public var value: Value

    /// Creates a property from an identifier and a value of the matching kind.
    public init(_ identifier: Identifier, _ value: Value) {
        self.identifier = identifier
        self.value = value
    }

    /// A property value in one of MQTT 5's data representations.
    public enum Value: Sendable, Hashable {
        case byte(UInt8)
        case twoByteInteger(UInt16)
        case fourByteInteger(UInt32)
        case variableByteInteger(Int)
        case string(String)
        case binary([UInt8])
        case stringPair(String, String)

        /// The representation this value uses.
        public var kind: ValueKind {
            switch self {
            case .byte: .byte
            case .twoByteInteger: .twoByteInteger
            case .fourByteInteger: .fourByteInteger
            case .variableByteInteger: .variableByteInteger
            case .string: .string
            case .binary: .binary
            case .stringPair: .stringPair
            }
        }
    }

    /// The data representations a property value can use.
    public enum ValueKind: Sendable, Hashable {
        case byte, twoByteInteger, fourByteInteger, variableByteInteger, string, binary, stringPair
    }

    /// `name=value`, for logs.
    public var description: String {
        let rendered: String
        switch value {
        case .byte(let number): rendered = "\(number)"
        case .twoByteInteger(let number): rendered = "\(number)"
        case .fourByteInteger(let number): rendered = "\(number)"
        case .variableByteInteger(let number): rendered = "\(number)"
        case .string(let text): rendered = "\"\(text)\""
        case .binary(let bytes): rendered = "<\(bytes.count) bytes>"
        case .stringPair(let key, let text): rendered = "\"\(key)\": \"\(text)\""
        }
        return "\(identifier)=\(rendered)"
    }

    /// Number of bytes this property takes on the wire, identifier included.
    public var encodedLength: Int {
        let payload: Int
        switch value {
        case .byte: payload = 1
        case .twoByteInteger: payload = 2
        case .fourByteInteger: payload = 4
        case .variableByteInteger(let number): payload = VariableByteInteger.encodedLength(of: number)
        case .string(let text): payload = 2 + text.utf8.count
        case .binary(let bytes): payload = 2 + bytes.count
        case .stringPair(let key, let text): payload = 4 + key.utf8.count + text.utf8.count
        }
        return VariableByteInteger.encodedLength(of: Int(identifier.rawValue)) + payload
    }

    /// Appends this property (identifier and value) to `buffer`.
    public func write(to buffer: inout ByteBuffer) {
        VariableByteInteger.write(Int(identifier.rawValue), to: &buffer)
        switch value {
        case .byte(let number): buffer.writeInteger(number)
        case .twoByteInteger(let number): buffer.writeInteger(number)
        case .fourByteInteger(let number): buffer.writeInteger(number)
        case .variableByteInteger(let number): VariableByteInteger.write(number, to: &buffer)
        case .string(let text): buffer.writeMQTTString(text)
        case .binary(let bytes): buffer.writeMQTTBinary(bytes)
        case .stringPair(let key, let text):
            buffer.writeMQTTString(key)
            buffer.writeMQTTString(text)
        }
    }

    /// Appends a property section: its length as a variable byte integer, then each property in order.
    public static func write(_ properties: [MQTTProperty], to buffer: inout ByteBuffer) {
        VariableByteInteger.write(properties.reduce(0) { $0 + $1.encodedLength }, to: &buffer)
        for property in properties {
            property.write(to: &buffer)
        }
    }
}

extension ByteBuffer {
    /// Appends an MQTT UTF-8 string: two-byte length, then the bytes (at most 65,535).
    public mutating func writeMQTTString(_ string: String) {
        let count = string.utf8.count
        precondition(count <= Int(UInt16.max), "MQTT string of \(count) bytes is longer than 65535")
        writeInteger(UInt16(count))
        writeString(string)
    }

    /// Appends MQTT binary data: two-byte length, then the bytes (at most 65,535).
    public mutating func writeMQTTBinary(_ bytes: [UInt8]) {
        precondition(bytes.count <= Int(UInt16.max), "MQTT binary of \(bytes.count) bytes is longer than 65535")
        writeInteger(UInt16(bytes.count))
        writeBytes(bytes)
    }
}

import NIOCore

/// A bounds-checked cursor over the body of one packet (a frame split off the stream by `MQTTFrameDecoder`); every
/// problem is an `MQTTPacketError` naming the packet and the field.
///
/// CONNECT has its own zero-copy decoder (`ConnectDecoder`), which also tells a partial packet from a bad one; this
/// reader serves the packets that arrive whole, after the CONNECT.
public struct MQTTPacketReader {
    private var buffer: ByteBuffer
    /// The packet being read, for error messages.
    public let type: MQTTPacketType

    /// Reads the body of `frame`.
    public init(_ frame: MQTTFrame) {
        buffer = frame.body
        type = frame.type
    }

    /// Bytes not read yet.
    public var remaining: Int { buffer.readableBytes }

    public mutating func readUInt8(_ field: String) throws(MQTTPacketError) -> UInt8 {
        guard let value = buffer.readInteger(as: UInt8.self) else { throw .truncated(type, field: field) }
        return value
    }

    public mutating func readUInt16(_ field: String) throws(MQTTPacketError) -> UInt16 {
        guard let value = buffer.readInteger(as: UInt16.self) else { throw .truncated(type, field: field) }
        return value
    }

    public mutating func readUInt32(_ field: String) throws(MQTTPacketError) -> UInt32 {
        guard let value = buffer.readInteger(as: UInt32.self) else { throw .truncated(type, field: field) }
        return value
    }

    /// Reads a non-zero packet identifier.
    public mutating func readPacketID() throws(MQTTPacketError) -> UInt16 {
        let id = try readUInt16("packet identifier")
        if id == 0 { throw .zeroPacketIdentifier(type) }
        return id
    }

    public mutating func readVariableByteInteger(_ field: String) throws(MQTTPacketError) -> Int {
        switch VariableByteInteger.decode(buffer, at: buffer.readerIndex) {
        case .needMoreBytes:
            throw .truncated(type, field: field)
        case .malformed:
            throw .invalidProperty(type, "\(field) is longer than 4 bytes")
        case .value(let value, let byteCount):
            buffer.moveReaderIndex(forwardBy: byteCount)
            return value
        }
    }

    public mutating func readBytes(_ count: Int, _ field: String) throws(MQTTPacketError) -> [UInt8] {
        guard let bytes = buffer.readBytes(length: count) else { throw .truncated(type, field: field) }
        return bytes
    }

    /// MQTT binary data: a two-byte length, then the bytes.
    public mutating func readBinary(_ field: String) throws(MQTTPacketError) -> [UInt8] {
        try readBytes(Int(try readUInt16("\(field) length")), field)
    }

    /// An MQTT UTF-8 string: a two-byte length, then well-formed UTF-8 without U+0000.
    public mutating func readString(_ field: String) throws(MQTTPacketError) -> String {
        let bytes = try readBinary(field)
        guard let string = MQTTUTF8.string(bytes) else { throw .invalidString(type, field: field) }
        return string
    }

    /// Everything not read yet.
    public mutating func readRest() -> ByteBuffer {
        buffer.readSlice(length: buffer.readableBytes) ?? ByteBuffer()
    }

    /// Fails when bytes are left.
    public func expectEnd() throws(MQTTPacketError) {
        if remaining > 0 { throw .trailingBytes(type, count: remaining) }
    }

    /// Reads an MQTT 5 property section, accepting only the identifiers in `allowed`.
    public mutating func readProperties(allowed: Set<UInt8>) throws(MQTTPacketError) -> [MQTTProperty] {
        let length = try readVariableByteInteger("property length")
        guard length <= remaining else { throw .truncated(type, field: "properties") }
        var section = self
        section.buffer = buffer.getSlice(at: buffer.readerIndex, length: length) ?? ByteBuffer()
        buffer.moveReaderIndex(forwardBy: length)
        var properties: [MQTTProperty] = []
        while section.remaining > 0 {
            let raw = try section.readUInt8("property identifier")
            let identifier = MQTTProperty.Identifier(rawValue: raw)
            guard let definition = identifier.definition else {
                throw .invalidProperty(type, "unknown identifier 0x\(hex(raw))")
            }
            guard allowed.contains(raw) else { throw .invalidProperty(type, "\(identifier) is not allowed here") }
            let name = "\(identifier)"
            let value: MQTTProperty.Value
            switch definition.kind {
            case .byte: value = .byte(try section.readUInt8(name))
            case .twoByteInteger: value = .twoByteInteger(try section.readUInt16(name))
            case .fourByteInteger: value = .fourByteInteger(try section.readUInt32(name))
            case .variableByteInteger: value = .variableByteInteger(try section.readVariableByteInteger(name))
            case .string: value = .string(try section.readString(name))
            case .binary: value = .binary(try section.readBinary(name))
            case .stringPair: value = .stringPair(try section.readString(name), try section.readString(name))
            }
            properties.append(MQTTProperty(identifier, value))
        }
        return properties
    }
}

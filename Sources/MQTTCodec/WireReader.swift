import NIOCore

/// Why a parse stopped before producing a value.
enum ParseStop: Error, Equatable {
    /// The bytes so far are a valid prefix; the packet continues past what is buffered.
    case needMoreBytes
    /// No continuation of these bytes is a valid packet.
    case malformed(String)
}

/// A bounds-checked cursor over a `ByteBuffer` that never moves the buffer's own indices.
///
/// Every read is checked first against `limit` (the end of the packet or of the section being read:
/// running past it is malformed) and then against the bytes actually buffered (running past them means
/// more bytes are needed). This ordering makes a truncated valid packet always report `needMoreBytes`.
struct WireReader {
    let buffer: ByteBuffer
    /// Absolute index of the next byte to read.
    private(set) var index: Int
    /// Absolute index one past the last buffered byte.
    let available: Int
    /// Absolute index one past the last byte of the current section; `Int.max` while unknown.
    var limit: Int = .max
    /// What `limit` ends, for error messages ("packet", "CONNECT properties", ...).
    var limitName = "packet"

    init(_ buffer: ByteBuffer, at index: Int? = nil) {
        self.buffer = buffer
        self.index = index ?? buffer.readerIndex
        self.available = buffer.writerIndex
    }

    /// Bytes between the cursor and the end of the current section.
    var remainingInSection: Int { limit - index }

    /// Fails as malformed if `count` bytes do not fit in the current section.
    func checkFits(_ count: Int, _ what: @autoclosure () -> String) throws(ParseStop) {
        if count > limit - index {
            throw .malformed("\(what()) runs past the end of the \(limitName)")
        }
    }

    /// Ensures `count` bytes can be read: malformed past the section, need-more past the buffer.
    func require(_ count: Int, _ what: @autoclosure () -> String) throws(ParseStop) {
        try checkFits(count, what())
        if count > available - index {
            throw .needMoreBytes
        }
    }

    mutating func readUInt8(_ what: @autoclosure () -> String) throws(ParseStop) -> UInt8 {
        try require(1, what())
        guard let value = buffer.getInteger(at: index, as: UInt8.self) else { throw .needMoreBytes }
        index += 1
        return value
    }

    mutating func readUInt16(_ what: @autoclosure () -> String) throws(ParseStop) -> UInt16 {
        try require(2, what())
        guard let value = buffer.getInteger(at: index, as: UInt16.self) else { throw .needMoreBytes }
        index += 2
        return value
    }

    mutating func readUInt32(_ what: @autoclosure () -> String) throws(ParseStop) -> UInt32 {
        try require(4, what())
        guard let value = buffer.getInteger(at: index, as: UInt32.self) else { throw .needMoreBytes }
        index += 4
        return value
    }

    /// Reads a variable byte integer of at most four bytes.
    mutating func readVariableByteInteger(_ what: @autoclosure () -> String) throws(ParseStop) -> Int {
        var value = 0
        var multiplier = 1
        for _ in 0..<VariableByteInteger.maxByteCount {
            let byte = try readUInt8(what())
            value += Int(byte & 0x7F) * multiplier
            if byte & 0x80 == 0 {
                return value
            }
            multiplier *= 128
        }
        throw .malformed("\(what()) longer than 4 bytes")
    }

    /// Reads `count` raw bytes.
    mutating func readBytes(_ count: Int, _ what: @autoclosure () -> String) throws(ParseStop) -> [UInt8] {
        try require(count, "\(what()) (\(count) bytes)")
        guard let bytes = buffer.getBytes(at: index, length: count) else { throw .needMoreBytes }
        index += count
        return bytes
    }

    /// Reads MQTT binary data as a slice of the input (no copy).
    mutating func readBinarySlice(_ what: @autoclosure () -> String) throws(ParseStop) -> ByteBuffer {
        let length = Int(try readUInt16("\(what()) length"))
        try require(length, "\(what()) (\(length) bytes)")
        guard let slice = buffer.getSlice(at: index, length: length) else { throw .needMoreBytes }
        index += length
        return slice
    }

    /// Reads MQTT binary data: a two-byte length, then that many bytes.
    mutating func readBinary(_ what: @autoclosure () -> String) throws(ParseStop) -> [UInt8] {
        let length = Int(try readUInt16("\(what()) length"))
        return try readBytes(length, what())
    }

    /// Reads an MQTT UTF-8 string: a two-byte length, then well-formed UTF-8 without U+0000.
    mutating func readString(_ what: @autoclosure () -> String) throws(ParseStop) -> String {
        String(buffer: try readStringSlice(what()))
    }

    /// Reads and validates an MQTT UTF-8 string, returning its bytes as a slice of the input (no copy).
    mutating func readStringSlice(_ what: @autoclosure () -> String) throws(ParseStop) -> ByteBuffer {
        let length = Int(try readUInt16("\(what()) length"))
        try require(length, "\(what()) (\(length) bytes)")
        let verdict = buffer.withVeryUnsafeBytes { storage in
            MQTTUTF8.validate(UnsafeRawBufferPointer(rebasing: storage[index..<(index + length)]))
        }
        switch verdict {
        case .valid:
            break
        case .invalid:
            throw .malformed("\(what()) is not valid UTF-8")
        case .containsNull:
            throw .malformed("\(what()) contains U+0000")
        }
        guard let slice = buffer.getSlice(at: index, length: length) else { throw .needMoreBytes }
        index += length
        return slice
    }
}

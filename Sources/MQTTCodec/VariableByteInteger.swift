import NIOCore

/// MQTT's variable byte integer: 7 bits per byte, high bit set on every byte but the last, 1 to 4 bytes.
///
/// Used for the remaining length of every fixed header and, in MQTT 5, for property lengths.
public enum VariableByteInteger {
    /// The largest value four bytes can carry (268,435,455).
    public static let maxValue = 268_435_455

    /// The most bytes an encoding may use.
    public static let maxByteCount = 4

    /// Outcome of decoding a variable byte integer from a buffer that may still be filling up.
    public enum DecodeResult: Sendable, Equatable {
        /// The bytes so far are a valid prefix; more are needed.
        case needMoreBytes
        /// The fourth byte still has its continuation bit set.
        case malformed
        /// The decoded value and how many bytes it took (non-minimal encodings are accepted).
        case value(Int, byteCount: Int)
    }

    /// Decodes the integer starting at the absolute index `index` of `buffer`, without moving any index.
    public static func decode(_ buffer: ByteBuffer, at index: Int) -> DecodeResult {
        var value = 0
        var multiplier = 1
        for offset in 0..<maxByteCount {
            guard let byte = buffer.getInteger(at: index + offset, as: UInt8.self) else {
                return .needMoreBytes
            }
            value += Int(byte & 0x7F) * multiplier
            if byte & 0x80 == 0 {
                return .value(value, byteCount: offset + 1)
            }
            multiplier *= 128
        }
        return .malformed
    }

    /// Decodes the integer at the start of `bytes`.
    public static func decode(_ bytes: some Collection<UInt8>) -> DecodeResult {
        var value = 0
        var multiplier = 1
        var count = 0
        for byte in bytes {
            guard count < maxByteCount else { break }
            count += 1
            value += Int(byte & 0x7F) * multiplier
            if byte & 0x80 == 0 {
                return .value(value, byteCount: count)
            }
            multiplier *= 128
        }
        return count < maxByteCount ? .needMoreBytes : .malformed
    }

    /// Number of bytes the minimal encoding of `value` takes (`value` must be in `0...maxValue`).
    public static func encodedLength(of value: Int) -> Int {
        precondition((0...maxValue).contains(value), "variable byte integer \(value) out of range")
        switch value {
        case 0..<128: return 1
        case 128..<16_384: return 2
        case 16_384..<2_097_152: return 3
        default: return 4
        }
    }

    /// Appends the minimal encoding of `value` to `buffer` and returns the number of bytes written.
    @discardableResult
    public static func write(_ value: Int, to buffer: inout ByteBuffer) -> Int {
        precondition((0...maxValue).contains(value), "variable byte integer \(value) out of range")
        var remaining = value
        var written = 0
        repeat {
            var byte = UInt8(remaining & 0x7F)
            remaining >>= 7
            if remaining > 0 {
                byte |= 0x80
            }
            buffer.writeInteger(byte)
            written += 1
        } while remaining > 0
        return written
    }

    /// The minimal encoding of `value` as bytes.
    public static func encode(_ value: Int) -> [UInt8] {
        var buffer = ByteBuffer()
        write(value, to: &buffer)
        return Array(buffer.readableBytesView)
    }
}

/// Validation of MQTT "UTF-8 Encoded Strings" (MQTT 3.1.1 §1.5.3, MQTT 5 §1.5.4).
enum MQTTUTF8 {
    /// Outcome of checking a byte sequence.
    enum Verdict: Equatable {
        case valid
        /// Ill-formed UTF-8: bad lead or continuation byte, truncated sequence, overlong form,
        /// a UTF-16 surrogate (U+D800...U+DFFF) or a code point above U+10FFFF.
        case invalid
        /// Well-formed, but includes U+0000, which MQTT forbids.
        case containsNull
    }

    /// The string `bytes` spell, or nil when they are not a valid MQTT string (ill-formed, or with U+0000).
    static func string(_ bytes: [UInt8]) -> String? {
        guard bytes.withUnsafeBytes({ validate($0) }) == .valid else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Checks `bytes` without allocating.
    static func validate(_ bytes: UnsafeRawBufferPointer) -> Verdict {
        var index = 0
        let count = bytes.count
        while index < count {
            let lead = bytes[index]
            if lead < 0x80 {
                if lead == 0 {
                    return .containsNull
                }
                index += 1
                continue
            }
            let length: Int
            let minimum: UInt32
            var scalar: UInt32
            switch lead {
            case 0xC2...0xDF:
                length = 2
                minimum = 0x80
                scalar = UInt32(lead & 0x1F)
            case 0xE0...0xEF:
                length = 3
                minimum = 0x800
                scalar = UInt32(lead & 0x0F)
            case 0xF0...0xF4:
                length = 4
                minimum = 0x10000
                scalar = UInt32(lead & 0x07)
            default:
                return .invalid
            }
            guard length <= count - index else { return .invalid }
            for offset in 1..<length {
                let byte = bytes[index + offset]
                guard byte & 0xC0 == 0x80 else { return .invalid }
                scalar = scalar << 6 | UInt32(byte & 0x3F)
            }
            if scalar < minimum || scalar > 0x10FFFF || (0xD800...0xDFFF).contains(scalar) {
                return .invalid
            }
            index += length
        }
        return .valid
    }
}

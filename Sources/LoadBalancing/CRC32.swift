/// CRC-32/IEEE 802.3 (reflected polynomial `0xEDB88320`), the checksum of zlib and of nginx's `ngx_crc32_short`.
///
/// The functions work on the raw register (the "state", before the final inversion) so that a prefix can be
/// hashed once and extended many times; that is how ``ConsistentHashRing`` derives its points. Nothing here
/// allocates: the lookup table is built once, on first use.
public enum CRC32 {
    /// The register before any byte has been processed.
    public static let initialState: UInt32 = 0xFFFF_FFFF

    /// The 256-entry table of the byte-at-a-time algorithm.
    @usableFromInline
    static let table: [UInt32] = (0..<256).map { index in
        var value = UInt32(index)
        for _ in 0..<8 {
            value = value & 1 == 1 ? (value >> 1) ^ 0xEDB8_8320 : value >> 1
        }
        return value
    }

    /// Feeds `bytes` into the running register `state` and returns the new register (not finalized).
    @inlinable
    public static func update<Bytes: Sequence<UInt8>>(_ state: UInt32, with bytes: Bytes) -> UInt32 {
        let contiguous = bytes.withContiguousStorageIfAvailable { buffer in
            update(state, with: UnsafeRawBufferPointer(buffer))
        }
        if let contiguous {
            return contiguous
        }
        return table.withUnsafeBufferPointer { table in
            var crc = state
            for byte in bytes {
                crc = table[Int(UInt8(truncatingIfNeeded: crc) ^ byte)] ^ (crc >> 8)
            }
            return crc
        }
    }

    /// Feeds the bytes of a raw buffer into the running register `state` and returns the new register.
    @inlinable
    public static func update(_ state: UInt32, with bytes: UnsafeRawBufferPointer) -> UInt32 {
        table.withUnsafeBufferPointer { table in
            var crc = state
            for byte in bytes {
                crc = table[Int(UInt8(truncatingIfNeeded: crc) ^ byte)] ^ (crc >> 8)
            }
            return crc
        }
    }

    /// Feeds the four little-endian bytes of `value` into the running register `state`.
    @inlinable
    public static func update(_ state: UInt32, littleEndian value: UInt32) -> UInt32 {
        table.withUnsafeBufferPointer { table in
            var crc = state
            var rest = value
            for _ in 0..<4 {
                crc = table[Int(UInt8(truncatingIfNeeded: crc) ^ UInt8(truncatingIfNeeded: rest))] ^ (crc >> 8)
                rest >>= 8
            }
            return crc
        }
    }

    /// Turns a register into the checksum value (the final inversion); applying it twice gives the register back.
    @inlinable
    public static func finalize(_ state: UInt32) -> UInt32 {
        state ^ 0xFFFF_FFFF
    }

    /// The CRC-32 of a byte sequence.
    @inlinable
    public static func checksum<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> UInt32 {
        finalize(update(initialState, with: bytes))
    }

    /// The CRC-32 of a string's UTF-8 bytes (what APISIX hashes for a chash key).
    @inlinable
    public static func checksum(_ string: String) -> UInt32 {
        finalize(update(initialState, with: string.utf8))
    }
}

import NIOCore

/// Reads a PROXY protocol header (version 1 or 2, told apart by their first bytes) from the start of a buffer,
/// without consuming it. Strict, as the specification asks of a receiver: one wrong byte and the header is
/// malformed; nothing is guessed.
public enum ProxyHeaderDecoder {
    public enum Result: Sendable, Equatable {
        /// What is there is a valid start of a header.
        case needMoreBytes
        /// Not a valid header; the reason names the first problem.
        case malformed(String)
        /// A whole header of `length` bytes; the connection's own bytes follow it.
        case complete(ProxyHeader, length: Int)
    }

    /// The longest version 1 line, CRLF included.
    public static let v1MaxLength = 107

    /// Decodes the header at the buffer's reader index; a version 2 header longer than `maxLength` is malformed.
    public static func decode(_ buffer: ByteBuffer, maxLength: Int = 16 + 4096) -> Result {
        let bytes = buffer.readableBytesView
        let signature = ProxyHeader.v2Signature
        let v1Start = Array("PROXY ".utf8)
        let seen = bytes.prefix(signature.count)
        if seen.elementsEqual(signature.prefix(seen.count)) {
            return seen.count < signature.count ? .needMoreBytes : decodeV2(buffer, maxLength: maxLength)
        }
        let start = bytes.prefix(v1Start.count)
        guard start.elementsEqual(v1Start.prefix(start.count)) else {
            return .malformed("not a PROXY protocol header (the connection starts with 0x"
                              + String(bytes.first ?? 0, radix: 16) + ")")
        }
        return start.count < v1Start.count ? .needMoreBytes : decodeV1(buffer)
    }

    // MARK: - Version 1

    private static func decodeV1(_ buffer: ByteBuffer) -> Result {
        let bytes = buffer.readableBytesView
        let window = bytes.prefix(v1MaxLength)
        guard let lf = window.firstIndex(of: 0x0A) else {
            return window.count >= v1MaxLength ? .malformed("PROXY v1 line has no CRLF within 107 bytes") : .needMoreBytes
        }
        guard lf > window.startIndex, bytes[lf - 1] == 0x0D else { return .malformed("PROXY v1 line ends without CR") }
        let line = String(decoding: bytes[bytes.startIndex..<lf - 1], as: UTF8.self)
        let length = lf - bytes.startIndex + 1
        let fields = line.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        guard fields.count >= 2 else { return .malformed("PROXY v1 line has no protocol") }
        if fields[1] == "UNKNOWN" {
            return .complete(ProxyHeader(version: 1, source: nil, destination: nil), length: length)
        }
        guard fields[1] == "TCP4" || fields[1] == "TCP6" else {
            return .malformed("PROXY v1 protocol \(fields[1]) is not TCP4, TCP6 or UNKNOWN")
        }
        guard fields.count == 6 else {
            return .malformed("PROXY v1 line has \(fields.count) fields, expected 6 (single spaces between them)")
        }
        guard let sourcePort = port(fields[4]), let destinationPort = port(fields[5]) else {
            return .malformed("PROXY v1 port is not a decimal number 0…65535 without leading zeros")
        }
        let isV6 = fields[1] == "TCP6"
        guard let source = address(fields[2], port: sourcePort, v6: isV6),
              let destination = address(fields[3], port: destinationPort, v6: isV6)
        else { return .malformed("PROXY v1 address is not a valid \(isV6 ? "IPv6" : "IPv4") address") }
        return .complete(ProxyHeader(version: 1, source: source, destination: destination), length: length)
    }

    private static func port(_ text: String) -> Int? {
        guard !text.isEmpty, text.count <= 5, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
              text == "0" || !text.hasPrefix("0"), let value = Int(text), value <= 65535
        else { return nil }
        return value
    }

    /// A character of a numeric address: digits and dots, and for IPv6 hex digits and colons too.
    private static func numeric(_ c: UInt8, v6: Bool) -> Bool {
        if (0x30...0x39).contains(c) || c == 0x2E { return true }
        guard v6 else { return false }
        return (0x41...0x46).contains(c) || (0x61...0x66).contains(c) || c == 0x3A
    }

    private static func address(_ text: String, port: Int, v6: Bool) -> SocketAddress? {
        // Numeric addresses only: the system parser also takes an IPv6 zone (`::1%1`, `fe80::1%eth0`), which a
        // header must not carry (found by fuzzing).
        guard text.utf8.allSatisfy({ numeric($0, v6: v6) }), let address = try? SocketAddress(ipAddress: text, port: port)
        else { return nil }
        switch address {
        case .v4: return v6 ? nil : address
        case .v6: return v6 ? address : nil
        case .unixDomainSocket: return nil
        }
    }

    // MARK: - Version 2

    private static func decodeV2(_ buffer: ByteBuffer, maxLength: Int) -> Result {
        guard buffer.readableBytes >= 16 else { return .needMoreBytes }
        let base = buffer.readerIndex
        let versionCommand = buffer.getInteger(at: base + 12, as: UInt8.self)!
        let family = buffer.getInteger(at: base + 13, as: UInt8.self)!
        let bodyLength = Int(buffer.getInteger(at: base + 14, as: UInt16.self)!)
        guard versionCommand >> 4 == 2 else { return .malformed("PROXY v2 header has version \(versionCommand >> 4)") }
        let command: ProxyHeader.Command
        switch versionCommand & 0x0F {
        case 0: command = .local
        case 1: command = .proxy
        default: return .malformed("PROXY v2 header has command \(versionCommand & 0x0F) (0 LOCAL and 1 PROXY exist)")
        }
        let addressLength: Int
        switch family {
        case 0x00: addressLength = 0
        case 0x11: addressLength = 12
        case 0x21: addressLength = 36
        case 0x31: addressLength = 216
        case 0x12, 0x22, 0x32: return .malformed("PROXY v2 header is for a datagram connection")
        default: return .malformed("PROXY v2 header has an unknown address family 0x\(String(family, radix: 16))")
        }
        let total = 16 + bodyLength
        guard total <= maxLength else {
            return .malformed("PROXY v2 header of \(total) bytes exceeds the limit of \(maxLength)")
        }
        guard buffer.readableBytes >= total else { return .needMoreBytes }
        guard bodyLength >= addressLength || command == .local else {
            return .malformed("PROXY v2 header is \(bodyLength) bytes after the fixed part, the addresses need \(addressLength)")
        }
        let body = buffer.getBytes(at: base + 16, length: bodyLength)!
        var source: SocketAddress?
        var destination: SocketAddress?
        if command == .proxy, family == 0x11 || family == 0x21 {
            let size = family == 0x11 ? 4 : 16
            let ports = 2 * size
            let sourcePort = Int(body[ports]) << 8 | Int(body[ports + 1])
            let destinationPort = Int(body[ports + 2]) << 8 | Int(body[ports + 3])
            source = packed(body[0..<size], port: sourcePort)
            destination = packed(body[size..<ports], port: destinationPort)
        }
        let tlvStart = min(addressLength, bodyLength)
        guard let tlvs = ProxyTLV.parseList(body[tlvStart...]) else {
            return .malformed("PROXY v2 extension (TLV) overruns the header")
        }
        if let crc = tlvs.first(where: { $0.type == ProxyTLV.crc32c }) {
            guard crc.value.count == 4 else { return .malformed("PROXY v2 CRC32C extension is not 4 bytes") }
            var whole = buffer.getBytes(at: base, length: total)!
            if let at = crcOffset(in: body, tlvStart: tlvStart) {
                for i in 0..<4 { whole[16 + at + i] = 0 }
            }
            let expected = UInt32(crc.value[0]) << 24 | UInt32(crc.value[1]) << 16 | UInt32(crc.value[2]) << 8
                | UInt32(crc.value[3])
            guard CRC32C.checksum(whole) == expected else { return .malformed("PROXY v2 header fails its CRC32C check") }
        }
        return .complete(ProxyHeader(version: 2, command: command, source: source, destination: destination, tlvs: tlvs),
                         length: total)
    }

    private static func packed(_ bytes: ArraySlice<UInt8>, port: Int) -> SocketAddress? {
        var buffer = ByteBuffer(bytes: bytes)
        return try? SocketAddress(packedIPAddress: buffer.readSlice(length: bytes.count)!, port: port)
    }

    /// Where the CRC32C value sits in the body.
    private static func crcOffset(in body: [UInt8], tlvStart: Int) -> Int? {
        var i = tlvStart
        while i + 3 <= body.count {
            let length = Int(body[i + 1]) << 8 | Int(body[i + 2])
            if body[i] == ProxyTLV.crc32c { return i + 3 }
            i += 3 + length
        }
        return nil
    }
}

/// CRC-32C (Castagnoli), the checksum of PROXY v2's `PP2_TYPE_CRC32C`.
public enum CRC32C {
    private static let table: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 == 1 ? 0x82F6_3B78 ^ (c >> 1) : c >> 1 }
        return c
    }

    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for b in bytes { crc = table[Int((crc ^ UInt32(b)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }
}

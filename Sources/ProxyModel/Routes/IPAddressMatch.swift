#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 address as raw network-order bytes (4 or 16 of them).
public struct IPAddressBytes: Sendable, Hashable, CustomStringConvertible {
    public var bytes: [UInt8]

    /// Parses dotted IPv4 or textual IPv6 (brackets and zone ids are not accepted).
    public init?(_ text: String) {
        if text.utf8.contains(UInt8(ascii: ":")) {
            var a = in6_addr()
            guard inet_pton(AF_INET6, text, &a) == 1 else { return nil }
            bytes = withUnsafeBytes(of: &a) { Array($0) }
        } else {
            var a = in_addr()
            guard inet_pton(AF_INET, text, &a) == 1 else { return nil }
            bytes = withUnsafeBytes(of: &a) { Array($0) }
        }
    }

    /// Wraps raw bytes (4 or 16).
    public init(bytes: [UInt8]) { self.bytes = bytes }

    public var isIPv6: Bool { bytes.count == 16 }

    /// For an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`), the IPv4 address; otherwise nil.
    public var unmappedIPv4: IPAddressBytes? {
        guard bytes.count == 16, bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF
        else { return nil }
        return IPAddressBytes(bytes: Array(bytes[12..<16]))
    }

    public var description: String {
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        var a = in6_addr()
        withUnsafeMutableBytes(of: &a) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        var buf = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(AF_INET6, &a, &buf, socklen_t(buf.count)) != nil else { return "?" }
        return String(decoding: buf.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// An address or CIDR block as used by `remote_addr` / `server_addr` (`10.0.0.0/8`, `::1`, `fe80::/10`).
public struct CIDR: Sendable, Hashable, CustomStringConvertible {
    public var network: IPAddressBytes
    public var prefixLength: Int
    /// The text the operator wrote.
    public var text: String

    /// Parses an IPv4/IPv6 address or CIDR; nil when malformed or the prefix is out of range.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 1 || parts.count == 2, let addr = IPAddressBytes(String(parts[0])) else { return nil }
        let maxPrefix = addr.bytes.count * 8
        var prefix = maxPrefix
        if parts.count == 2 {
            guard let p = Int(parts[1]), (0...maxPrefix).contains(p), !parts[1].hasPrefix("+") else { return nil }
            prefix = p
        }
        self.network = addr
        self.prefixLength = prefix
        self.text = text
    }

    /// Whether `address` lies in this block; IPv4-mapped IPv6 addresses are compared as IPv4.
    public func contains(_ address: IPAddressBytes) -> Bool {
        var candidate = address
        if network.bytes.count == 4, let v4 = address.unmappedIPv4 { candidate = v4 }
        guard candidate.bytes.count == network.bytes.count else { return false }
        var bitsLeft = prefixLength
        for i in 0..<network.bytes.count where bitsLeft > 0 {
            let take = min(8, bitsLeft)
            let mask: UInt8 = take == 8 ? 0xFF : ~(0xFF >> UInt8(take))
            if candidate.bytes[i] & mask != network.bytes[i] & mask { return false }
            bitsLeft -= take
        }
        return true
    }

    public var description: String { text }
}

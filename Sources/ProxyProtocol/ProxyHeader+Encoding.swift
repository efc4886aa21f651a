import NIOCore

extension ProxyHeader {
    /// The 12 bytes every version 2 header starts with.
    public static let v2Signature: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A]

    /// The header's bytes. Version 1 carries the addresses only (TLVs are a version 2 feature); mixed families are
    /// sent as IPv6 with the IPv4 address mapped; without addresses, version 1 says `UNKNOWN` and version 2 `LOCAL`.
    public func encoded() -> [UInt8] {
        version == 1 ? encodedV1() : encodedV2()
    }

    private var endpoints: (source: Endpoint, destination: Endpoint)? {
        guard command == .proxy, let source = source.flatMap(Endpoint.init),
              let destination = destination.flatMap(Endpoint.init)
        else { return nil }
        if source.bytes.count == destination.bytes.count { return (source, destination) }
        return (source.asIPv6, destination.asIPv6)
    }

    private func encodedV1() -> [UInt8] {
        guard let (source, destination) = endpoints else { return Array("PROXY UNKNOWN\r\n".utf8) }
        let family = source.bytes.count == 4 ? "TCP4" : "TCP6"
        return Array("PROXY \(family) \(source.text) \(destination.text) \(source.port) \(destination.port)\r\n".utf8)
    }

    private func encodedV2() -> [UInt8] {
        var body: [UInt8] = []
        var family: UInt8 = 0x00
        var commandByte: UInt8 = 0x20
        if let (source, destination) = endpoints {
            commandByte = 0x21
            family = source.bytes.count == 4 ? 0x11 : 0x21
            body = source.bytes + destination.bytes + Endpoint.portBytes(source.port) + Endpoint.portBytes(destination.port)
        }
        for tlv in tlvs { body += tlv.encoded }
        let length = UInt16(truncatingIfNeeded: body.count)
        return ProxyHeader.v2Signature + [commandByte, family, UInt8(length >> 8), UInt8(length & 0xFF)] + body
    }

    /// An address in the forms a header needs.
    private struct Endpoint {
        var bytes: [UInt8]
        var port: Int
        var text: String

        init?(_ address: SocketAddress) {
            guard let bytes = address.packedBytes, let port = address.port, let text = address.ipAddress else { return nil }
            self.bytes = bytes
            self.port = port
            self.text = text
        }

        private init(bytes: [UInt8], port: Int, text: String) {
            self.bytes = bytes
            self.port = port
            self.text = text
        }

        /// IPv4 as an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`); IPv6 as it is.
        var asIPv6: Endpoint {
            guard bytes.count == 4 else { return self }
            return Endpoint(bytes: Array(repeating: 0, count: 10) + [0xFF, 0xFF] + bytes, port: port,
                            text: "::ffff:\(text)")
        }

        static func portBytes(_ port: Int) -> [UInt8] { [UInt8((port >> 8) & 0xFF), UInt8(port & 0xFF)] }
    }
}

extension SocketAddress {
    /// The address's raw bytes in network order (4 for IPv4, 16 for IPv6), straight from the socket address;
    /// nil for Unix sockets.
    public var packedBytes: [UInt8]? {
        switch self {
        case .v4(let a): withUnsafeBytes(of: a.address.sin_addr) { Array($0) }
        case .v6(let a): withUnsafeBytes(of: a.address.sin6_addr) { Array($0) }
        case .unixDomainSocket: nil
        }
    }
}

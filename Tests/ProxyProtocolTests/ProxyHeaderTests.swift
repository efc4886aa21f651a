import NIOCore
import ProxyProtocol
import Testing

private func address(_ ip: String, _ port: Int) -> SocketAddress { try! SocketAddress(ipAddress: ip, port: port) }

private func decode(_ bytes: [UInt8], maxLength: Int = 16 + 4096) -> ProxyHeaderDecoder.Result {
    ProxyHeaderDecoder.decode(ByteBuffer(bytes: bytes), maxLength: maxLength)
}

private func hex(_ s: String) -> [UInt8] {
    let digits = s.filter(\.isHexDigit)
    return stride(from: 0, to: digits.count, by: 2).map { i in
        let start = digits.index(digits.startIndex, offsetBy: i)
        return UInt8(digits[start...digits.index(after: start)], radix: 16)!
    }
}

@Suite struct ProxyHeaderEncodingTests {
    @Test func v1TCP4IsTheTextLine() {
        let header = ProxyHeader(version: 1, source: address("192.168.0.1", 56324), destination: address("10.0.0.2", 1883))
        #expect(String(decoding: header.encoded(), as: UTF8.self) == "PROXY TCP4 192.168.0.1 10.0.0.2 56324 1883\r\n")
    }

    @Test func v1TCP6AndMixedFamilies() {
        let v6 = ProxyHeader(version: 1, source: address("2001:db8::1", 1), destination: address("::1", 65535))
        #expect(String(decoding: v6.encoded(), as: UTF8.self) == "PROXY TCP6 2001:db8::1 ::1 1 65535\r\n")
        let mixed = ProxyHeader(version: 1, source: address("10.1.2.3", 5), destination: address("::1", 6))
        #expect(String(decoding: mixed.encoded(), as: UTF8.self) == "PROXY TCP6 ::ffff:10.1.2.3 ::1 5 6\r\n")
        let none = ProxyHeader(version: 1, source: nil, destination: nil)
        #expect(String(decoding: none.encoded(), as: UTF8.self) == "PROXY UNKNOWN\r\n")
    }

    @Test func v2TCP4WithoutExtensions() {
        let header = ProxyHeader(version: 2, source: address("127.0.0.5", 40000), destination: address("127.0.0.1", 9000))
        #expect(header.encoded() == hex("0D0A0D0A000D0A515549540A 21 11 000C 7F000005 7F000001 9C40 2328"))
    }

    @Test func v2WithAuthorityAndSSLExtensions() {
        let ssl = ProxySSLInfo(tlsVersion: "TLSv1.3", certificateVerified: true, verifiedCN: "device-1")
        let header = ProxyHeader(
            version: 2, source: address("127.0.0.5", 40000), destination: address("127.0.0.1", 9000),
            tlvs: [ProxyTLV(type: ProxyTLV.authority, value: Array("broker.example".utf8)),
                   ProxyTLV(type: ProxyTLV.ssl, value: ssl.tlvValue)])
        let expected = hex("0D0A0D0A000D0A515549540A 21 11 003A 7F000005 7F000001 9C40 2328")
            + hex("02 000E") + Array("broker.example".utf8)
            + hex("20 001A 07 00000000") + hex("21 0007") + Array("TLSv1.3".utf8) + hex("22 0008") + Array("device-1".utf8)
        #expect(header.encoded() == expected)
    }

    @Test func v2SSLWithoutAVerifiedCertificate() {
        let ssl = ProxySSLInfo(tlsVersion: "TLSv1.2", certificateVerified: false, verifiedCN: "ignored")
        #expect(ssl.tlvValue == hex("01 00000001 21 0007") + Array("TLSv1.2".utf8))
        #expect(ssl.commonName == nil)
    }

    @Test func v2TCP6AndLocal() {
        let header = ProxyHeader(version: 2, source: address("::1", 1), destination: address("::2", 2))
        let bytes = header.encoded()
        #expect(Array(bytes[12..<16]) == [0x21, 0x21, 0x00, 0x24])
        #expect(bytes.count == 16 + 36)
        let local = ProxyHeader(version: 2, command: .local, source: nil, destination: nil)
        #expect(local.encoded() == ProxyHeader.v2Signature + [0x20, 0x00, 0x00, 0x00])
    }

    @Test func crc32cKnownAnswer() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
    }
}

@Suite struct ProxyHeaderDecodingTests {
    @Test func roundTripsBothVersionsAndLeavesTheRest() throws {
        let ssl = ProxySSLInfo(tlsVersion: "TLSv1.3", certificateVerified: true, verifiedCN: "device-1")
        for version in [1, 2] {
            let header = ProxyHeader(
                version: version, source: address("127.0.0.5", 40000), destination: address("127.0.0.1", 9000),
                tlvs: version == 2 ? [ProxyTLV(type: ProxyTLV.authority, value: Array("a.example".utf8)),
                                      ProxyTLV(type: ProxyTLV.ssl, value: ssl.tlvValue)] : [])
            let bytes = header.encoded()
            let result = decode(bytes + [0x10, 0x0C])
            guard case .complete(let decoded, let length) = result else {
                Issue.record("version \(version): \(result)")
                continue
            }
            #expect(length == bytes.count)
            #expect(decoded == header)
            if version == 2 {
                #expect(decoded.authority == "a.example")
                #expect(decoded.ssl == ssl)
            }
        }
    }

    @Test func everyPrefixNeedsMoreBytes() {
        for version in [1, 2] {
            let bytes = ProxyHeader(version: version, source: address("::1", 1), destination: address("::1", 2)).encoded()
            for n in 0..<bytes.count {
                #expect(decode(Array(bytes.prefix(n))) == .needMoreBytes, "version \(version), \(n) bytes")
            }
        }
    }

    @Test func unknownAndLocalUseTheSocketAddresses() throws {
        guard case .complete(let unknown, let length) = decode(Array("PROXY UNKNOWN ff:: ::1 1 2\r\nX".utf8)) else {
            Issue.record("UNKNOWN not accepted")
            return
        }
        #expect(length == 28)
        #expect(unknown.source == nil)
        let local = ProxyHeader.v2Signature + [0x20, 0x11, 0x00, 0x0C] + Array(repeating: 1, count: 12)
        guard case .complete(let header, let localLength) = decode(local) else {
            Issue.record("LOCAL not accepted")
            return
        }
        #expect(header.command == .local)
        #expect(header.source == nil)
        #expect(localLength == 28)
    }

    @Test(arguments: [
        ("GET / HTTP/1.1\r\n", "not a PROXY protocol header"),
        ("PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n", "fields"),
        ("PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n", "port"),
        ("PROXY TCP4 1.2.3.4 5.6.7.8 1 65536\r\n", "port"),
        ("PROXY TCP4 ::1 5.6.7.8 1 2\r\n", "IPv4"),
        ("PROXY TCP6 1.2.3.4 ::1 1 2\r\n", "IPv6"),
        ("PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n", "IPv4"),
        ("PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n", "UDP4"),
        ("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", "without CR"),
        // Found by fuzzing: the system parser takes IPv6 zones, a header must not.
        ("PROXY TCP6 2001:db8::1 ::%1 40000 8883\r\n", "IPv6"),
        ("PROXY TCP6 fe80::1%lo ::1 1 2\r\n", "IPv6"),
        ("PROXY TCP4 1.2.3.4%1 5.6.7.8 1 2\r\n", "IPv4"),
    ])
    func malformedV1(line: String, says: String) {
        guard case .malformed(let why) = decode(Array(line.utf8)) else {
            Issue.record("\(line) was accepted")
            return
        }
        #expect(why.contains(says), "\(why)")
    }

    @Test func v1WithoutCRLFWithin107Bytes() {
        let line = "PROXY TCP6 " + String(repeating: "f", count: 120)
        guard case .malformed(let why) = decode(Array(line.utf8)) else {
            Issue.record("accepted")
            return
        }
        #expect(why.contains("107"))
    }

    @Test func malformedV2() {
        let sig = ProxyHeader.v2Signature
        let cases: [([UInt8], String)] = [
            (sig + [0x11, 0x11, 0x00, 0x0C] + Array(repeating: 0, count: 12), "version 1"),
            (sig + [0x22, 0x11, 0x00, 0x0C] + Array(repeating: 0, count: 12), "command 2"),
            (sig + [0x21, 0x12, 0x00, 0x0C] + Array(repeating: 0, count: 12), "datagram"),
            (sig + [0x21, 0x41, 0x00, 0x00], "unknown address family"),
            (sig + [0x21, 0x11, 0x00, 0x08] + Array(repeating: 0, count: 8), "addresses need 12"),
            (sig + [0x21, 0x11, 0x00, 0x0F] + Array(repeating: 0, count: 12) + [0x02, 0x00, 0x09], "overruns"),
            (sig + [0x21, 0x11, 0x10, 0x00], "exceeds the limit"),
        ]
        for (bytes, says) in cases {
            guard case .malformed(let why) = decode(bytes, maxLength: 1024) else {
                Issue.record("\(says): accepted")
                continue
            }
            #expect(why.contains(says), "\(why)")
        }
    }

    @Test func crc32cIsChecked() {
        var header = ProxyHeader(version: 2, source: address("127.0.0.5", 40000), destination: address("127.0.0.1", 9000),
                                 tlvs: [ProxyTLV(type: ProxyTLV.crc32c, value: [0, 0, 0, 0])])
        var bytes = header.encoded()
        let crc = CRC32C.checksum(bytes)
        bytes.replaceSubrange(bytes.count - 4..<bytes.count,
                              with: [UInt8(crc >> 24), UInt8((crc >> 16) & 0xFF), UInt8((crc >> 8) & 0xFF), UInt8(crc & 0xFF)])
        guard case .complete(let decoded, _) = decode(bytes) else {
            Issue.record("a correct CRC32C was refused")
            return
        }
        header.tlvs = decoded.tlvs
        #expect(decoded == header)
        bytes[17] ^= 0x01
        #expect(decode(bytes) == .malformed("PROXY v2 header fails its CRC32C check"))
    }
}

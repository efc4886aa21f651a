import ProxyModel
import Testing

@Suite("Addresses and CIDR blocks")
struct CIDRTests {
    @Test(arguments: [
        ("127.0.0.1", "127.0.0.1", true),
        ("127.0.0.1", "127.0.0.2", false),
        ("127.0.0.0/8", "127.255.1.2", true),
        ("10.0.0.0/8", "11.0.0.1", false),
        ("0.0.0.0/0", "8.8.8.8", true),
        ("192.168.1.0/25", "192.168.1.127", true),
        ("192.168.1.0/25", "192.168.1.128", false),
        ("::1", "::1", true),
        ("fe80::/10", "fe80::abcd", true),
        ("fe80::/10", "fec0::1", false),
        ("127.0.0.1", "::ffff:127.0.0.1", true),
        ("::1", "127.0.0.1", false),
    ])
    func containment(cidr: String, address: String, expected: Bool) throws {
        let block = try #require(CIDR(cidr))
        let addr = try #require(IPAddressBytes(address))
        #expect(block.contains(addr) == expected)
    }

    @Test(arguments: [":/8", "1.2.3.4/33", "1.2.3", "::1/129", "1.2.3.4/", "1.2.3.4/+1", "abc", ""])
    func malformed(text: String) {
        #expect(CIDR(text) == nil)
    }

    @Test func formatsAddresses() throws {
        #expect(try #require(IPAddressBytes("10.1.2.3")).description == "10.1.2.3")
        #expect(try #require(IPAddressBytes("0:0::1")).description == "::1")
    }
}

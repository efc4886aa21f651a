import Foundation
import MQTTCodec
import NIOCore
import Testing

@Suite("Encoding round trips and the fuzz corpus")
struct RoundTripTests {
    @Test("encoded samples decode to the same packet", arguments: Samples.all)
    func roundTrip(name: String, packet: ConnectPacket) throws {
        let wire = encode(packet)
        var expected = packet
        expected.byteCount = wire.count
        #expect(decode(wire) == .complete(expected), "\(name)")
    }

    @Test("re-encoding a decoded APISIX vector gives the same bytes")
    func reencode() throws {
        let wire = bytes(hex: "101b00044d5154540502003c051100000e100009636c696e742d313131")
        let packet = try #require(completePacket(decode(wire)))
        #expect(encode(packet) == wire)
    }

    /// The seed corpus of `scripts/fuzz-connect.sh`, and inputs the fuzzer once found.
    static func corpus() throws -> [URL] {
        let directory = try #require(
            Bundle.module.url(forResource: "fuzz-corpus", withExtension: nil, subdirectory: "Fixtures")
        )
        return try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    @Test("the fuzz seed corpus is present")
    func corpusPresent() throws {
        #expect(try Self.corpus().count >= 15)
    }

    @Test("corpus inputs decode as their names say and obey the prefix rule")
    func corpusReplay() throws {
        for url in try Self.corpus() {
            let input = [UInt8](try Data(contentsOf: url))
            let name = url.lastPathComponent
            let result = decode(input)
            if name.hasPrefix("valid-") {
                let packet = try #require(completePacket(result), "\(name): \(result)")
                for length in 0..<packet.byteCount {
                    #expect(decode(Array(input.prefix(length))) == .needMoreBytes, "\(name) prefix \(length)")
                }
            } else if name.hasPrefix("partial-") {
                #expect(result == .needMoreBytes, "\(name)")
            } else if name.hasPrefix("malformed-") {
                #expect(malformedReason(result) != nil, "\(name): \(result)")
            }
        }
    }
}

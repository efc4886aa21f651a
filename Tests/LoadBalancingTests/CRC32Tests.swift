import Testing
@testable import LoadBalancing

@Suite("CRC-32/IEEE")
struct CRC32Tests {
    @Test(
        "known answers",
        arguments: [
            ("123456789", UInt32(0xCBF4_3926)),
            ("", UInt32(0)),
            ("a", UInt32(0xE8B7_BE43)),
            ("The quick brown fox jumps over the lazy dog", UInt32(0x414F_A339)),
            ("f", UInt32(0x76D3_2BE0)),
            ("127.0.0.1", UInt32(0xD7B7_E7A8)),
        ]
    )
    func knownAnswers(input: String, expected: UInt32) {
        #expect(CRC32.checksum(input) == expected)
        #expect(CRC32.checksum(Array(input.utf8)) == expected)
    }

    @Test("matches a bit-by-bit reference on random data")
    func matchesReference() {
        var generator = SplitMix64(seed: 7)
        for length in 0..<200 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            #expect(CRC32.checksum(bytes) == referenceCRC32(bytes))
        }
    }

    @Test("non-contiguous sequences hash like arrays")
    func nonContiguousSequence() {
        let bytes = Array("123456789".utf8)
        #expect(CRC32.checksum(bytes.lazy.map { $0 }) == 0xCBF4_3926)
        #expect(CRC32.checksum(AnySequence(bytes)) == 0xCBF4_3926)
    }

    @Test("updating in pieces equals hashing the concatenation")
    func incremental() {
        let prefix = Array("127.0.0.1\u{0}1995".utf8)
        let value: UInt32 = 0xDEAD_BEEF
        let suffix: [UInt8] = [0xEF, 0xBE, 0xAD, 0xDE]
        let register = CRC32.update(CRC32.initialState, with: prefix)
        #expect(CRC32.update(register, littleEndian: value) == CRC32.update(register, with: suffix))
        #expect(CRC32.finalize(CRC32.update(register, littleEndian: value)) == referenceCRC32(prefix + suffix))
    }

    @Test("finalize undoes itself: the register of a checksum is checksum ^ 0xFFFFFFFF")
    func finalizeIsAnInvolution() {
        let register = CRC32.update(CRC32.initialState, with: Array("abc".utf8))
        #expect(CRC32.finalize(CRC32.finalize(register)) == register)
        #expect(CRC32.finalize(CRC32.checksum("abc")) == register)
    }
}

import MQTTCodec
import NIOCore
import Testing

@Suite("Variable byte integers")
struct VariableByteIntegerTests {
    static let boundaries: [(Int, [UInt8])] = [
        (0, [0x00]),
        (127, [0x7F]),
        (128, [0x80, 0x01]),
        (16_383, [0xFF, 0x7F]),
        (16_384, [0x80, 0x80, 0x01]),
        (2_097_151, [0xFF, 0xFF, 0x7F]),
        (2_097_152, [0x80, 0x80, 0x80, 0x01]),
        (268_435_455, [0xFF, 0xFF, 0xFF, 0x7F]),
    ]

    @Test("boundary values encode and decode", arguments: boundaries)
    func roundTrip(value: Int, encoding: [UInt8]) {
        #expect(VariableByteInteger.encode(value) == encoding)
        #expect(VariableByteInteger.encodedLength(of: value) == encoding.count)
        #expect(VariableByteInteger.decode(encoding) == .value(value, byteCount: encoding.count))
        let buffer = ByteBuffer(bytes: [0x30] + encoding + [0x99])
        #expect(VariableByteInteger.decode(buffer, at: 1) == .value(value, byteCount: encoding.count))
        for length in 0..<encoding.count {
            #expect(VariableByteInteger.decode(encoding.prefix(length)) == .needMoreBytes)
            #expect(VariableByteInteger.decode(ByteBuffer(bytes: encoding.prefix(length)), at: 0) == .needMoreBytes)
        }
    }

    @Test("every value round-trips across a sweep")
    func sweep() {
        for value in stride(from: 0, through: VariableByteInteger.maxValue, by: 9_973) {
            let encoded = VariableByteInteger.encode(value)
            #expect(VariableByteInteger.decode(encoded) == .value(value, byteCount: encoded.count))
        }
    }

    @Test("a fifth byte is malformed; non-minimal forms are accepted")
    func malformedAndNonMinimal() {
        #expect(VariableByteInteger.decode([0x80, 0x80, 0x80, 0x80]) == .malformed)
        #expect(VariableByteInteger.decode([0xFF, 0xFF, 0xFF, 0xFF, 0x7F]) == .malformed)
        #expect(VariableByteInteger.decode(ByteBuffer(bytes: [0x80, 0x80, 0x80, 0x80, 0x01]), at: 0) == .malformed)
        #expect(VariableByteInteger.decode([0x80, 0x00]) == .value(0, byteCount: 2))
        #expect(VariableByteInteger.decode([0x81, 0x80, 0x80, 0x00]) == .value(1, byteCount: 4))
    }

    @Test("write appends to a buffer and reports its size")
    func write() {
        var buffer = ByteBuffer(bytes: [0x10])
        #expect(VariableByteInteger.write(321, to: &buffer) == 2)
        #expect(Array(buffer.readableBytesView) == [0x10, 0xC1, 0x02])
    }
}

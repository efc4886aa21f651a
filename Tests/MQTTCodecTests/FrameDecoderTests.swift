import MQTTCodec
import NIOCore
import Testing

@Suite("MQTT frame splitting")
struct FrameDecoderTests {
    @Test("a stream splits into packets, leaving a partial one in the buffer")
    func splitsStream() throws {
        let connect = encode(Samples.v311)
        let publish: [UInt8] = [0x31, 0x06, 0x00, 0x01, 0x74, 0x68, 0x69, 0x21]
        let pingreq: [UInt8] = [0xC0, 0x00]
        var buffer = ByteBuffer(bytes: connect + publish + pingreq + [0x82, 0x05, 0x00])
        let limit = 1_000
        let first = try #require(try MQTTFrameDecoder.nextFrame(in: &buffer, maxPacketSize: limit))
        #expect(first.type == .connect && first.flags == 0 && first.byteCount == connect.count)
        #expect(first.bytes == connect)
        let second = try #require(try MQTTFrameDecoder.nextFrame(in: &buffer, maxPacketSize: limit))
        #expect(second.type == .publish && second.flags == 0x01)
        #expect(Array(second.body.readableBytesView) == Array(publish[2...]))
        let third = try #require(try MQTTFrameDecoder.nextFrame(in: &buffer, maxPacketSize: limit))
        #expect(third == MQTTFrame(type: .pingreq))
        #expect(try MQTTFrameDecoder.nextFrame(in: &buffer, maxPacketSize: limit) == nil)
        #expect(buffer.readableBytes == 3)
    }

    @Test("invalid fixed headers are errors", arguments: [
        ([0x00, 0x00], "packet type 0 is reserved"),
        ([0x11, 0x00], "CONNECT packet with flags 0x01 instead of 0x00"),
        ([0x80, 0x00], "SUBSCRIBE packet with flags 0x00 instead of 0x02"),
        ([0x36, 0x00], "PUBLISH with QoS 3"),
        ([0xC0, 0x80, 0x80, 0x80, 0x80], "remaining length longer than 4 bytes"),
        ([0x30, 0xFF, 0x7F], "PUBLISH of 16386 bytes exceeds the limit of 1000"),
    ] as [([UInt8], String)])
    func errors(input: [UInt8], reason: String) {
        var buffer = ByteBuffer(bytes: input)
        #expect(throws: MQTTFrameError(reason: reason)) {
            _ = try MQTTFrameDecoder.nextFrame(in: &buffer, maxPacketSize: 1_000)
        }
    }

    @Test("frames write the minimal header")
    func writeFrame() {
        let frame = MQTTFrame(type: .subscribe, body: ByteBuffer(bytes: [0x00, 0x01]))
        #expect(frame.firstByte == 0x82)
        #expect(frame.bytes == [0x82, 0x02, 0x00, 0x01])
        let big = MQTTFrame(type: .publish, body: ByteBuffer(bytes: [UInt8](repeating: 7, count: 200)))
        #expect(Array(big.bytes.prefix(3)) == [0x30, 0xC8, 0x01])
        #expect(big.byteCount == 203)
    }
}

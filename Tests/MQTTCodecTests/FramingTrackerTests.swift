import MQTTCodec
import NIOCore
import Testing

@Suite("Framing tracker")
struct FramingTrackerTests {
    /// PUBLISHes of several sizes (1- to 3-byte remaining lengths), then a PINGREQ and a DISCONNECT.
    static func stream() -> (ByteBuffer, [UInt8]) {
        var stream = ByteBuffer()
        var firstBytes: [UInt8] = []
        for size in [0, 3, 120, 300, 20_000, 200_000] {
            stream.writeImmutableBuffer(PublishPacket(topic: "t", payload: ByteBuffer(repeating: 0x61, count: size))
                .encoded(protocolLevel: 4))
            firstBytes.append(0x30)
        }
        stream.writeBytes(PacketEncoder.pingreq + DisconnectEncoder.v3)
        return (stream, firstBytes + [0xC0, 0xE0])
    }

    @Test("every packet is found whatever the chunking", arguments: [1, 2, 3, 7, 64, 1000, 1 << 20])
    func chunks(size: Int) throws {
        let (stream, expected) = Self.stream()
        var tracker = MQTTFramingTracker()
        var seen: [UInt8] = []
        var rest = stream
        while let piece = rest.readSlice(length: min(size, rest.readableBytes)), piece.readableBytes > 0 {
            try tracker.scan(piece) { first, _, _ in seen.append(first) }
        }
        #expect(seen == expected)
        #expect(tracker.isAtBoundary)
    }

    @Test("the body offset points at the body within the chunk")
    func bodyOffset() throws {
        var tracker = MQTTFramingTracker()
        var offsets: [Int] = []
        try tracker.scan(ByteBuffer(bytes: [0x20, 0x02, 0x00, 0x05, 0xD0, 0x00])) { _, _, offset in offsets.append(offset) }
        #expect(offsets == [2, 6])
    }

    @Test("scanToBoundary stops where the current packet ends, in whatever chunk that is")
    func toBoundary() throws {
        let publish = PublishPacket(topic: "a/b", payload: ByteBuffer(repeating: 1, count: 100)).encoded(protocolLevel: 4)
        var tracker = MQTTFramingTracker()
        #expect(try tracker.scanToBoundary(ByteBuffer(bytes: [1, 2, 3])) == 0)
        try tracker.scan(publish.getSlice(at: publish.readerIndex, length: 50)!) { _, _, _ in }
        #expect(!tracker.isAtBoundary)
        var tail = publish.getSlice(at: publish.readerIndex + 50, length: publish.readableBytes - 50)!
        let head = tail.readSlice(length: 20)!
        #expect(try tracker.scanToBoundary(head) == nil)
        tail.writeBytes(PacketEncoder.pingreq)
        #expect(try tracker.scanToBoundary(tail) == publish.readableBytes - 70)
        #expect(tracker.isAtBoundary)
    }

    @Test("a five-byte remaining length is malformed")
    func malformed() {
        var tracker = MQTTFramingTracker()
        #expect(throws: MQTTFramingTracker.Malformed.self) {
            try tracker.scan(ByteBuffer(bytes: [0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01])) { _, _, _ in }
        }
    }
}

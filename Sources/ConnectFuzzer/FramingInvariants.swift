import MQTTCodec
import NIOCore

/// Properties of the relay's MQTT framing tracker, whatever the input: chunks split anywhere find the same packets
/// (first byte, remaining length, where the body starts) as one scan of the whole, and end in the same state;
/// `scanToBoundary` stops exactly where a packet ends; the frame decoder sees the same fixed headers.
enum FramingInvariants {
    struct Packet: Equatable {
        var firstByte: UInt8
        var remainingLength: Int
        var bodyOffset: Int
    }

    struct Outcome: Equatable {
        var packets: [Packet]
        var malformed: Bool
        var atBoundary: Bool
        var bodyBytesLeft: Int
    }

    static func check(_ input: ByteBuffer) {
        let whole = scan(input, chunks: [input.readableBytes])
        // Chunk sizes from the input itself (1…8 bytes), so every run splits differently but reproducibly.
        let sizes = input.readableBytesView.map { Int($0 % 8) + 1 }
        precondition(scan(input, chunks: sizes) == whole, "chunked scans disagree with one scan")
        precondition(scan(input, chunks: [1]) == whole, "byte-by-byte scans disagree with one scan")
        checkBoundaries(input, whole)
        checkAgainstDecoder(input, whole)
    }

    /// Scans `input` in chunks of the given sizes (cycled) with one tracker.
    static func scan(_ input: ByteBuffer, chunks: [Int]) -> Outcome {
        var tracker = MQTTFramingTracker()
        var packets: [Packet] = []
        var offset = 0
        var turn = 0
        while offset < input.readableBytes {
            let size = min(max(1, chunks[turn % chunks.count]), input.readableBytes - offset)
            turn += 1
            let chunk = input.getSlice(at: input.readerIndex + offset, length: size)!
            let start = offset
            do throws(MQTTFramingTracker.Malformed) {
                try tracker.scan(chunk) { first, length, body in
                    packets.append(Packet(firstByte: first, remainingLength: length, bodyOffset: start + body))
                }
            } catch {
                return Outcome(packets: packets, malformed: true, atBoundary: false, bodyBytesLeft: 0)
            }
            offset += size
        }
        return Outcome(packets: packets, malformed: false, atBoundary: tracker.isAtBoundary,
                       bodyBytesLeft: tracker.bodyBytesLeft)
    }

    /// A tracker that has read the first `k` bytes of a packet's body stops `scanToBoundary` at the packet's end.
    static func checkBoundaries(_ input: ByteBuffer, _ whole: Outcome) {
        for packet in whole.packets.prefix(8) where packet.remainingLength > 0 {
            let end = packet.bodyOffset + packet.remainingLength
            for k in Set([packet.bodyOffset, packet.bodyOffset + packet.remainingLength / 2]) where k < input.readableBytes {
                var tracker = MQTTFramingTracker()
                guard (try? tracker.scan(input.getSlice(at: input.readerIndex, length: k)!) { _, _, _ in }) != nil,
                      !tracker.isAtBoundary
                else { continue }
                let rest = input.getSlice(at: input.readerIndex + k, length: input.readableBytes - k)!
                let stop = try? tracker.scanToBoundary(rest)
                if end <= input.readableBytes {
                    precondition(stop == .some(end - k), "scanToBoundary stopped off the packet's end")
                    precondition(tracker.isAtBoundary, "not at a boundary after scanToBoundary")
                } else {
                    precondition(stop == .some(nil), "scanToBoundary found an end beyond the input")
                }
            }
        }
    }

    /// Every frame the decoder reads has the fixed header the tracker found at the same place.
    static func checkAgainstDecoder(_ input: ByteBuffer, _ whole: Outcome) {
        var buffer = input
        var index = 0
        while let frame = try? MQTTFrameDecoder.nextFrame(in: &buffer, maxPacketSize: 1 << 28) {
            guard index < whole.packets.count else {
                preconditionFailure("the decoder read a frame the tracker did not find")
            }
            precondition(whole.packets[index].firstByte == frame.firstByte, "first bytes differ")
            precondition(whole.packets[index].remainingLength == frame.body.readableBytes, "lengths differ")
            index += 1
        }
    }
}

import NIOCore

/// Follows MQTT packet boundaries in a byte stream that it does not buffer: it reads only fixed headers and skips
/// bodies, so its cost is a few instructions per packet, not per byte.
///
/// Chunks may split a packet anywhere, including inside the fixed header. The relay uses it in both directions to
/// know when a packet it injects (a DISCONNECT) falls between two packets; the benchmark's sink counts packets with
/// it at line rate.
public struct MQTTFramingTracker: Sendable {
    /// Where the tracker is within the current packet.
    enum State: Sendable, Equatable {
        /// Expecting a packet's first byte.
        case firstByte
        /// Reading the remaining length (a variable byte integer) after `first`.
        case length(first: UInt8, value: Int, multiplier: Int, count: Int)
        /// Skipping `remaining` body bytes.
        case body(remaining: Int)
    }

    /// What stops a scan: a remaining length longer than four bytes.
    public struct Malformed: Error, Sendable, Equatable {}

    var state: State = .firstByte

    /// Creates a tracker positioned before a packet's first byte.
    public init() {}

    /// True between packets (no partial packet pending).
    public var isAtBoundary: Bool { state == .firstByte }

    /// Bytes of the current packet's body still to come; 0 at a boundary or inside a fixed header.
    public var bodyBytesLeft: Int {
        if case .body(let remaining) = state { return remaining }
        return 0
    }

    /// Scans `buffer`'s readable bytes; calls `onPacket(firstByte, remainingLength, bodyOffset)` as each fixed header
    /// ends, `bodyOffset` being where the body starts in `buffer`'s readable bytes (it may lie beyond them).
    public mutating func scan(
        _ buffer: ByteBuffer,
        onPacket: (_ firstByte: UInt8, _ remainingLength: Int, _ bodyOffset: Int) -> Void
    ) throws(Malformed) {
        _ = try run(buffer, stopAtBoundary: false, onPacket: onPacket)
    }

    /// Scans `buffer` only as far as the end of the current packet: returns how many of its bytes complete it (0 when
    /// already at a boundary), or nil when the packet goes on past `buffer` (which was then scanned whole).
    public mutating func scanToBoundary(_ buffer: ByteBuffer) throws(Malformed) -> Int? {
        if isAtBoundary { return 0 }
        return try run(buffer, stopAtBoundary: true) { _, _, _ in }
    }

    /// The scan loop; with `stopAtBoundary`, returns the offset of the first boundary reached (nil if none).
    private mutating func run(
        _ buffer: ByteBuffer, stopAtBoundary: Bool,
        onPacket: (_ firstByte: UInt8, _ remainingLength: Int, _ bodyOffset: Int) -> Void
    ) throws(Malformed) -> Int? {
        var state = self.state
        var boundary: Int?
        let failed = buffer.withUnsafeReadableBytes { bytes -> Bool in
            var index = 0
            let count = bytes.count
            while index < count {
                switch state {
                case .body(let remaining):
                    let step = min(remaining, count - index)
                    index += step
                    if remaining == step {
                        state = .firstByte
                        if stopAtBoundary {
                            boundary = index
                            return false
                        }
                    } else {
                        state = .body(remaining: remaining - step)
                    }
                case .firstByte:
                    state = .length(first: bytes[index], value: 0, multiplier: 1, count: 0)
                    index += 1
                case .length(let first, let value, let multiplier, let lengthBytes):
                    let byte = bytes[index]
                    index += 1
                    let newValue = value + Int(byte & 0x7F) * multiplier
                    if byte & 0x80 == 0 {
                        onPacket(first, newValue, index)
                        if newValue == 0 {
                            state = .firstByte
                            if stopAtBoundary {
                                boundary = index
                                return false
                            }
                        } else {
                            state = .body(remaining: newValue)
                        }
                    } else if lengthBytes == 3 {
                        return true
                    } else {
                        state = .length(first: first, value: newValue, multiplier: multiplier * 128,
                                        count: lengthBytes + 1)
                    }
                }
            }
            return false
        }
        self.state = state
        if failed { throw Malformed() }
        return boundary
    }
}

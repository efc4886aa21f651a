import NIOCore

/// Finds MQTT packet boundaries in a byte stream without buffering it: reads only fixed headers and skips bodies.
///
/// Chunks may split a packet anywhere, including inside the fixed header. Used by the sink upstream, which
/// must count what it receives at line rate without copying.
public struct PacketScanner: Sendable {
    /// Where the scanner is within the current packet.
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

    /// Creates a scanner positioned before a packet's first byte.
    public init() {}

    /// True between packets (no partial packet pending).
    public var isAtBoundary: Bool { state == .firstByte }

    /// Scans `buffer`'s readable bytes; calls `onPacket(firstByte, remainingLength)` as each fixed header ends.
    ///
    /// The call comes before the packet's body has been seen (it may be in a later chunk).
    public mutating func scan(
        _ buffer: ByteBuffer,
        onPacket: (_ firstByte: UInt8, _ remainingLength: Int) -> Void
    ) throws(Malformed) {
        var state = self.state
        let failed = buffer.withUnsafeReadableBytes { bytes -> Bool in
            var index = 0
            let count = bytes.count
            while index < count {
                switch state {
                case .body(let remaining):
                    let step = min(remaining, count - index)
                    index += step
                    state = remaining == step ? .firstByte : .body(remaining: remaining - step)
                case .firstByte:
                    state = .length(first: bytes[index], value: 0, multiplier: 1, count: 0)
                    index += 1
                case .length(let first, let value, let multiplier, let lengthBytes):
                    let byte = bytes[index]
                    index += 1
                    let newValue = value + Int(byte & 0x7F) * multiplier
                    if byte & 0x80 == 0 {
                        onPacket(first, newValue)
                        state = newValue == 0 ? .firstByte : .body(remaining: newValue)
                    } else if lengthBytes == 3 {
                        return true
                    } else {
                        state = .length(
                            first: first, value: newValue, multiplier: multiplier * 128, count: lengthBytes + 1
                        )
                    }
                }
            }
            return false
        }
        self.state = state
        if failed {
            throw Malformed()
        }
    }
}

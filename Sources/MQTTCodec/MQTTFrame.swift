import NIOCore

/// The MQTT control packet types (upper nibble of the first byte).
public enum MQTTPacketType: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case connect = 1, connack, publish, puback, pubrec, pubrel, pubcomp
    case subscribe, suback, unsubscribe, unsuback, pingreq, pingresp, disconnect, auth

    /// The spec's upper-case name, e.g. `PUBLISH`.
    public var description: String {
        switch self {
        case .connect: "CONNECT"
        case .connack: "CONNACK"
        case .publish: "PUBLISH"
        case .puback: "PUBACK"
        case .pubrec: "PUBREC"
        case .pubrel: "PUBREL"
        case .pubcomp: "PUBCOMP"
        case .subscribe: "SUBSCRIBE"
        case .suback: "SUBACK"
        case .unsubscribe: "UNSUBSCRIBE"
        case .unsuback: "UNSUBACK"
        case .pingreq: "PINGREQ"
        case .pingresp: "PINGRESP"
        case .disconnect: "DISCONNECT"
        case .auth: "AUTH"
        }
    }

    /// The fixed-header flags this type must carry; nil for PUBLISH, whose flags carry DUP, QoS and RETAIN.
    public var requiredFlags: UInt8? {
        switch self {
        case .publish: nil
        case .pubrel, .subscribe, .unsubscribe: 0x02
        default: 0x00
        }
    }
}

/// One MQTT packet split off a byte stream: the fixed header's type and flags, and the body after it.
public struct MQTTFrame: Sendable, Hashable {
    /// The packet type.
    public var type: MQTTPacketType
    /// The low nibble of the first byte.
    public var flags: UInt8
    /// Variable header and payload (the `remaining length` bytes).
    public var body: ByteBuffer

    /// Creates a frame; `flags` defaults to the value the type requires (0 for PUBLISH).
    public init(type: MQTTPacketType, flags: UInt8? = nil, body: ByteBuffer = ByteBuffer()) {
        self.type = type
        self.flags = (flags ?? type.requiredFlags ?? 0) & 0x0F
        self.body = body
    }

    /// The first byte of the fixed header.
    public var firstByte: UInt8 { type.rawValue << 4 | flags }

    /// Size of the frame on the wire with a minimal remaining length.
    public var byteCount: Int {
        1 + VariableByteInteger.encodedLength(of: body.readableBytes) + body.readableBytes
    }

    /// Appends the fixed header and the body to `buffer`.
    public func write(to buffer: inout ByteBuffer) {
        buffer.writeInteger(firstByte)
        VariableByteInteger.write(body.readableBytes, to: &buffer)
        buffer.writeImmutableBuffer(body)
    }

    /// The frame's bytes.
    public var bytes: [UInt8] {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(byteCount)
        write(to: &buffer)
        return Array(buffer.readableBytesView)
    }
}

/// Why a byte stream cannot be split into MQTT packets.
public struct MQTTFrameError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Operator-readable reason.
    public var reason: String

    /// Creates an error.
    public init(reason: String) {
        self.reason = reason
    }

    /// The reason.
    public var description: String { reason }
}

/// Splits a byte stream into MQTT packets; usable directly or through NIO's `ByteToMessageHandler`.
public struct MQTTFrameDecoder: ByteToMessageDecoder, Sendable {
    public typealias InboundOut = MQTTFrame

    /// Largest packet accepted, fixed header included.
    public var maxPacketSize: Int

    /// Creates a decoder; the default accepts the largest packet MQTT can express.
    public init(maxPacketSize: Int = 1 + VariableByteInteger.maxByteCount + VariableByteInteger.maxValue) {
        self.maxPacketSize = maxPacketSize
    }

    /// Reads the next whole packet off `buffer`, or returns nil (consuming nothing) if it is not all there.
    public static func nextFrame(in buffer: inout ByteBuffer, maxPacketSize: Int) throws(MQTTFrameError) -> MQTTFrame? {
        let start = buffer.readerIndex
        guard let first = buffer.getInteger(at: start, as: UInt8.self) else { return nil }
        guard let type = MQTTPacketType(rawValue: first >> 4) else {
            throw MQTTFrameError(reason: "packet type 0 is reserved")
        }
        let flags = first & 0x0F
        if let required = type.requiredFlags, flags != required {
            throw MQTTFrameError(reason: "\(type) packet with flags 0x\(hex(flags)) instead of 0x\(hex(required))")
        }
        if type == .publish && flags & 0x06 == 0x06 {
            throw MQTTFrameError(reason: "PUBLISH with QoS 3")
        }
        switch VariableByteInteger.decode(buffer, at: start + 1) {
        case .needMoreBytes:
            return nil
        case .malformed:
            throw MQTTFrameError(reason: "remaining length longer than 4 bytes")
        case .value(let length, let lengthBytes):
            let total = 1 + lengthBytes + length
            if total > maxPacketSize {
                throw MQTTFrameError(reason: "\(type) of \(total) bytes exceeds the limit of \(maxPacketSize)")
            }
            guard buffer.readableBytes >= total else { return nil }
            buffer.moveReaderIndex(forwardBy: 1 + lengthBytes)
            guard let body = buffer.readSlice(length: length) else { return nil }
            return MQTTFrame(type: type, flags: flags, body: body)
        }
    }

    /// `ByteToMessageDecoder`: emits one `MQTTFrame` per whole packet.
    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try Self.nextFrame(in: &buffer, maxPacketSize: maxPacketSize) else {
            return .needMoreData
        }
        context.fireChannelRead(wrapInboundOut(frame))
        return .continue
    }

    /// `ByteToMessageDecoder`: at end of stream, emits the packets that are complete.
    public mutating func decodeLast(
        context: ChannelHandlerContext,
        buffer: inout ByteBuffer,
        seenEOF: Bool
    ) throws -> DecodingState {
        try decode(context: context, buffer: &buffer)
    }
}

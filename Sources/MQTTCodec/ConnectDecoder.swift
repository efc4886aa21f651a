import NIOCore

/// Parses the CONNECT a client sends first, in place and without consuming it.
///
/// Handles MQTT 3.1 ("MQIsdp"/3), 3.1.1 ("MQTT"/4) and 5.0 ("MQTT"/5). Any other name or level is returned
/// as-is when the rest parses with the 3.1.1 layout, so the caller can answer "unacceptable protocol version".
public enum ConnectDecoder {
    /// APISIX's limit on the size of a buffered CONNECT (16 KiB).
    public static let defaultMaxPacketSize = 16_384

    /// The CONNECT packet type with its reserved flags (0x10).
    static let connectFirstByte: UInt8 = 0x10

    /// Parses the CONNECT at `buffer.readerIndex` without moving the reader index.
    ///
    /// Returns `.needMoreBytes` only when the buffered bytes are a valid prefix of a CONNECT of at most
    /// `maxPacketSize` bytes. Bytes after the packet (the client's next packet) are ignored.
    public static func decode(_ buffer: ByteBuffer, maxPacketSize: Int = defaultMaxPacketSize) -> ConnectDecodeResult {
        var reader = WireReader(buffer)
        var level: UInt8?
        do throws(ParseStop) {
            let remainingLength = try reader.readFixedHeader()
            let total = reader.index - buffer.readerIndex + remainingLength
            if total > maxPacketSize {
                throw .malformed("CONNECT of \(total) bytes exceeds the limit of \(maxPacketSize)")
            }
            let name = try reader.readString("protocol name")
            let protocolLevel = try reader.readUInt8("protocol level")
            level = protocolLevel
            var packet = try reader.readConnectBody(protocolName: name, protocolLevel: protocolLevel)
            packet.byteCount = total
            return .complete(packet)
        } catch {
            switch error {
            case .needMoreBytes: return .needMoreBytes
            case .malformed(let reason): return .malformed(ConnectDecodeError(reason: reason, protocolLevel: level))
            }
        }
    }

    /// Cheap early look: the protocol name and level, as soon as the bytes up to the level are buffered.
    ///
    /// Checks only the fixed header, the name and the level byte; `decode` may still find the packet
    /// malformed or too large.
    public static func peekProtocol(_ buffer: ByteBuffer) -> ProtocolPeek {
        var reader = WireReader(buffer)
        do throws(ParseStop) {
            _ = try reader.readFixedHeader()
            let name = try reader.readString("protocol name")
            let level = try reader.readUInt8("protocol level")
            return .protocol(name: name, level: level)
        } catch {
            switch error {
            case .needMoreBytes: return .needMoreBytes
            case .malformed(let reason): return .malformed(ConnectDecodeError(reason: reason))
            }
        }
    }
}

extension WireReader {
    /// Reads the CONNECT fixed header and bounds the reader to the packet; returns the remaining length.
    mutating func readFixedHeader() throws(ParseStop) -> Int {
        let first = try readUInt8("first byte")
        guard first == ConnectDecoder.connectFirstByte else {
            throw .malformed("first byte 0x\(hex(first)) is not CONNECT (0x10)")
        }
        let remainingLength = try readVariableByteInteger("remaining length")
        limit = index + remainingLength
        limitName = "packet"
        return remainingLength
    }

    /// Reads everything after the protocol level: flags, keep-alive, properties and payload.
    mutating func readConnectBody(protocolName: String, protocolLevel: UInt8) throws(ParseStop) -> ConnectPacket {
        let isMQTT5 = protocolLevel == 5
        let flags = ConnectFlags(rawValue: try readUInt8("connect flags"))
        try Self.validate(flags, isMQTT5: isMQTT5)
        let keepAlive = try readUInt16("keep alive")
        let properties: ConnectPacket.PropertiesField = isMQTT5 ? .wire(try readPropertySection(.connect)) : .values([])
        let clientID = try readStringSlice("client id")
        var will: ConnectPacket.WillField?
        if flags.contains(.will) {
            let willProperties = isMQTT5 ? try readPropertySection(.will) : ByteBuffer()
            let topic = try readStringSlice("will topic")
            let payload = try readBinarySlice("will payload")
            will = .wire(ConnectPacket.WillBytes(properties: willProperties, topic: topic, payload: payload))
        }
        let username = flags.contains(.username) ? try readStringSlice("username") : nil
        let password = flags.contains(.password) ? try readBinarySlice("password") : nil
        if remainingInSection > 0 {
            throw .malformed("\(remainingInSection) trailing bytes after CONNECT payload")
        }
        return ConnectPacket(
            protocolName: protocolName, protocolLevel: protocolLevel, flags: flags, keepAlive: keepAlive,
            propertyField: properties, clientIDBytes: clientID, willField: will, usernameBytes: username,
            passwordBytes: password
        )
    }

    /// Checks the connect flags for the reserved bit and inconsistent combinations.
    static func validate(_ flags: ConnectFlags, isMQTT5: Bool) throws(ParseStop) {
        if flags.contains(.reserved) {
            throw .malformed("reserved connect flag (bit 0) is set")
        }
        if flags.willQoS == 3 {
            throw .malformed("will QoS 3 is invalid")
        }
        if !flags.contains(.will) && (flags.willQoS != 0 || flags.contains(.willRetain)) {
            throw .malformed("will QoS or will retain set without the will flag")
        }
        if !isMQTT5 && flags.contains(.password) && !flags.contains(.username) {
            throw .malformed("password flag set without the username flag")
        }
    }
}

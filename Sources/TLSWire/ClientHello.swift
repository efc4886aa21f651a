import NIOCore

/// What the proxy reads from a TLS ClientHello before the handshake starts: the server name (to pick a
/// certificate) and the signature schemes (to pick between an ECDSA and an RSA certificate). Pure: bytes in, a
/// value out, nothing consumed.
public struct ClientHello: Sendable, Equatable {
    /// The `server_name` extension's host name, lowercased; nil when the client sent none.
    public var serverName: String?
    /// The `signature_algorithms` extension's code points, in the client's order (empty when absent).
    public var signatureSchemes: [UInt16]

    public init(serverName: String?, signatureSchemes: [UInt16]) {
        self.serverName = serverName
        self.signatureSchemes = signatureSchemes
    }

    /// The outcome of looking at the first bytes of a connection.
    public enum ParseResult: Sendable, Equatable {
        case needMoreBytes
        /// Not a TLS handshake (a plaintext MQTT client on a TLS port, say), with the reason.
        case notTLS(String)
        case hello(ClientHello)
    }

    /// Largest ClientHello accepted (TLS allows 16 MiB; real ones are under a few KiB).
    public static let maxLength = 64 * 1024

    /// Parses a ClientHello from `buffer` without consuming it. Handshake messages split over several TLS
    /// records are joined.
    public static func parse(_ buffer: ByteBuffer) -> ParseResult {
        var input = buffer
        var handshake = ByteBuffer()
        while true {
            guard let header = input.readBytes(length: 5) else { return .needMoreBytes }
            guard header[0] == 0x16 else {
                return .notTLS("first byte \(hex(header[0])) is not a TLS handshake record")
            }
            guard header[1] == 0x03 else { return .notTLS("record version \(header[1]).\(header[2]) is not TLS") }
            let length = Int(header[3]) << 8 | Int(header[4])
            guard length > 0, length <= 16384 + 2048 else { return .notTLS("record length \(length) is invalid") }
            guard var fragment = input.readSlice(length: length) else { return .needMoreBytes }
            handshake.writeBuffer(&fragment)
            guard handshake.readableBytes >= 4 else { continue }
            let bytes = handshake.getBytes(at: handshake.readerIndex, length: 4)!
            guard bytes[0] == 0x01 else { return .notTLS("first handshake message is not a ClientHello") }
            let bodyLength = Int(bytes[1]) << 16 | Int(bytes[2]) << 8 | Int(bytes[3])
            guard bodyLength <= maxLength else { return .notTLS("ClientHello of \(bodyLength) bytes is too large") }
            if handshake.readableBytes >= 4 + bodyLength {
                handshake.moveReaderIndex(forwardBy: 4)
                guard var body = handshake.readSlice(length: bodyLength), let hello = parseBody(&body) else {
                    return .notTLS("malformed ClientHello")
                }
                return .hello(hello)
            }
        }
    }

    /// `0x1f`: a byte as the reasons name it.
    private static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return "0x" + String(digits[Int(byte >> 4)]) + String(digits[Int(byte & 0x0F)])
    }

    /// The ClientHello body after the 4-byte handshake header.
    private static func parseBody(_ body: inout ByteBuffer) -> ClientHello? {
        guard body.readInteger(as: UInt16.self) != nil,  // legacy_version
              body.readSlice(length: 32) != nil,  // random
              let sessionIDLength = body.readInteger(as: UInt8.self), body.readSlice(length: Int(sessionIDLength)) != nil,
              let suitesLength = body.readInteger(as: UInt16.self), body.readSlice(length: Int(suitesLength)) != nil,
              let compressionLength = body.readInteger(as: UInt8.self),
              body.readSlice(length: Int(compressionLength)) != nil
        else { return nil }
        var hello = ClientHello(serverName: nil, signatureSchemes: [])
        guard body.readableBytes > 0 else { return hello }  // no extensions at all
        guard let extensionsLength = body.readInteger(as: UInt16.self),
              var extensions = body.readSlice(length: Int(extensionsLength))
        else { return nil }
        while extensions.readableBytes > 0 {
            guard let type = extensions.readInteger(as: UInt16.self), let length = extensions.readInteger(as: UInt16.self),
                  var data = extensions.readSlice(length: Int(length))
            else { return nil }
            switch type {
            case 0x0000:
                hello.serverName = parseServerName(&data)
            case 0x000d:
                guard let listLength = data.readInteger(as: UInt16.self), listLength % 2 == 0,
                      var list = data.readSlice(length: Int(listLength))
                else { return nil }
                while let scheme = list.readInteger(as: UInt16.self) { hello.signatureSchemes.append(scheme) }
            default:
                continue
            }
        }
        return hello
    }

    private static func parseServerName(_ data: inout ByteBuffer) -> String? {
        guard let listLength = data.readInteger(as: UInt16.self), var list = data.readSlice(length: Int(listLength))
        else { return nil }
        while let nameType = list.readInteger(as: UInt8.self), let length = list.readInteger(as: UInt16.self),
              let name = list.readString(length: Int(length))
        {
            if nameType == 0 { return name.lowercased() }
        }
        return nil
    }
}

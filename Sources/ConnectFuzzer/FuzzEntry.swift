import Foundation
import MQTTCodec
import NIOCore

/// Which parser the inputs go to: `FUZZ_TARGET=connect` (the default: the CONNECT decoder and the MQTT framing),
/// `proxy-header` (the PROXY protocol v1/v2 decoder), `client-hello` (the TLS ClientHello reader), `framing` (the
/// relay's MQTT framing tracker), `json` (the admin API's body parser and validation) or `yaml-store` (the APISIX
/// standalone file). One driver serves every target.
enum FuzzTarget: String {
    case connect
    case proxyHeader = "proxy-header"
    case clientHello = "client-hello"
    case framing
    case json
    case yamlStore = "yaml-store"

    static let selected: FuzzTarget = {
        guard let name = getenv("FUZZ_TARGET").map({ String(cString: $0) }), !name.isEmpty else { return .connect }
        guard let target = FuzzTarget(rawValue: name) else {
            fatalError("unknown FUZZ_TARGET \(name) (connect, proxy-header, client-hello, framing, json, yaml-store)")
        }
        return target
    }()
}

/// libFuzzer entry point: decodes `data` as the first bytes of a connection and checks the selected parser's
/// invariants, trapping (via `precondition`) on any violation.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = ByteBuffer(bytes: UnsafeBufferPointer(start: data, count: size))
    switch FuzzTarget.selected {
    case .connect:
        ConnectInvariants.check(input)
        FrameInvariants.check(input)
    case .proxyHeader:
        ProxyHeaderInvariants.check(input)
    case .clientHello:
        ClientHelloInvariants.check(input)
    case .framing:
        FramingInvariants.check(input)
    case .json:
        JSONInvariants.check(input)
    case .yamlStore:
        YAMLStoreInvariants.check(input)
    }
    return 0
}

/// Properties every CONNECT decode must have, whatever the input.
enum ConnectInvariants {
    /// Limit large enough never to interfere with inputs of libFuzzer's size.
    static let limit = 1 << 20
    /// Prefix checks are exhaustive up to this length, sampled above it.
    static let exhaustivePrefixes = 256

    static func check(_ input: ByteBuffer) {
        let result = ConnectDecoder.decode(input, maxPacketSize: limit)
        precondition(ConnectDecoder.decode(input, maxPacketSize: limit) == result, "decode is not deterministic")
        _ = ConnectDecoder.decode(input)
        let peek = ConnectDecoder.peekProtocol(input)
        switch result {
        case .complete(let packet):
            checkComplete(packet, input: input, peek: peek)
        case .needMoreBytes:
            checkPrefixesNeedMore(input, below: input.readableBytes)
        case .malformed:
            checkExtensionsStayMalformed(input)
        }
    }

    /// A complete packet fits the input, every shorter prefix is a valid prefix, and it re-encodes.
    static func checkComplete(_ packet: ConnectPacket, input: ByteBuffer, peek: ProtocolPeek) {
        precondition(packet.byteCount >= 2 && packet.byteCount <= input.readableBytes, "byteCount out of range")
        precondition(peek == .protocol(name: packet.protocolName, level: packet.protocolLevel), "peek disagrees")
        checkPrefixesNeedMore(input, below: packet.byteCount)
        let exact = input.getSlice(at: input.readerIndex, length: packet.byteCount)
        precondition(exact.map { ConnectDecoder.decode($0, maxPacketSize: limit) } == .complete(packet),
                     "the packet alone decodes differently")
        let wire = packet.encoded
        var expected = packet
        expected.byteCount = wire.readableBytes
        precondition(ConnectDecoder.decode(wire, maxPacketSize: limit) == .complete(expected), "re-encoding differs")
        precondition(wire.readableBytes <= packet.byteCount, "re-encoding grew")
    }

    /// Every prefix of a valid prefix is itself a valid prefix.
    static func checkPrefixesNeedMore(_ input: ByteBuffer, below end: Int) {
        let step = end <= exhaustivePrefixes ? 1 : end / exhaustivePrefixes + 1
        for length in stride(from: 0, to: end, by: step) {
            guard let prefix = input.getSlice(at: input.readerIndex, length: length) else { continue }
            let result = ConnectDecoder.decode(prefix, maxPacketSize: limit)
            precondition(result == .needMoreBytes, "prefix of \(length) bytes of a valid prefix gave \(result)")
        }
    }

    /// Nothing appended to malformed bytes makes them a CONNECT.
    static func checkExtensionsStayMalformed(_ input: ByteBuffer) {
        for filler: UInt8 in [0x00, 0xFF] {
            var extended = input
            extended.writeRepeatingByte(filler, count: 64)
            guard case .malformed = ConnectDecoder.decode(extended, maxPacketSize: limit) else {
                preconditionFailure("malformed input became valid after appending 0x\(filler)")
            }
        }
    }
}

/// Properties of the general frame splitter.
enum FrameInvariants {
    static func check(_ input: ByteBuffer) {
        var buffer = input
        var consumed = 0
        while true {
            let before = buffer.readableBytes
            guard let frame = try? MQTTFrameDecoder.nextFrame(in: &buffer, maxPacketSize: 1 << 20) else { break }
            let used = before - buffer.readableBytes
            precondition(used > 0 && used >= frame.byteCount, "frame size does not match the bytes consumed")
            consumed += used
        }
        precondition(consumed <= input.readableBytes, "consumed more than the input")
    }
}

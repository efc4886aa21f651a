import NIOCore
import TLSWire

/// Properties of the TLS ClientHello reader, whatever the input: deterministic; a definite answer (a hello, or not
/// TLS) is the answer of every longer input that starts the same; every shorter prefix needs more bytes or gives
/// that same answer; a server name is lowercase.
enum ClientHelloInvariants {
    /// Prefixes checked per input at most (evenly spread, the last one always): each parse re-reads the records, so
    /// checking all of a 500-byte hello's prefixes would slow the fuzzer a hundredfold.
    static let sampledPrefixes = 32

    static func check(_ input: ByteBuffer) {
        let result = ClientHello.parse(input)
        precondition(ClientHello.parse(input) == result, "parse is not deterministic")
        precondition(input.readableBytes == input.readableBytesView.count, "the input was consumed")
        if case .hello(let hello) = result, let name = hello.serverName {
            precondition(name == name.lowercased(), "server name not lowercased")
        }
        let count = input.readableBytes
        let step = max(1, count / sampledPrefixes)
        for length in Set(Array(stride(from: 0, to: count, by: step)) + (count > 0 ? [count - 1] : [])) {
            let prefix = ClientHello.parse(input.getSlice(at: input.readerIndex, length: length)!)
            switch result {
            case .needMoreBytes:
                precondition(prefix == .needMoreBytes, "a prefix of an incomplete input is complete")
            case .hello, .notTLS:
                precondition(prefix == .needMoreBytes || prefix == result, "a prefix answers differently")
            }
        }
        guard result != .needMoreBytes else { return }
        var longer = input
        longer.writeBytes([0x16, 0x03, 0x03, 0x00, 0x01, 0x01, 0x00])
        precondition(ClientHello.parse(longer) == result, "bytes after a definite answer changed it")
    }
}

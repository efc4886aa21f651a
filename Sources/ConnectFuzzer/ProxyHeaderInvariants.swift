import NIOCore
import ProxyProtocol

/// Properties every PROXY protocol header decode must have, whatever the input (`FUZZ_TARGET=proxy-header`).
enum ProxyHeaderInvariants {
    static let maxLength = 16 + 4096
    /// Prefix checks are exhaustive up to this length, sampled above it (the fuzzer's own mutations cover the
    /// rest; checking every prefix of every input cut the run rate a hundredfold).
    static let exhaustivePrefixes = 16

    static func decode(_ buffer: ByteBuffer) -> ProxyHeaderDecoder.Result {
        ProxyHeaderDecoder.decode(buffer, maxLength: maxLength)
    }

    static func check(_ input: ByteBuffer) {
        let result = decode(input)
        precondition(decode(input) == result, "decode is not deterministic")
        switch result {
        case .complete(let header, let length):
            checkComplete(header, length: length, input: input, result: result)
        case .needMoreBytes:
            checkPrefixesNeedMore(input, below: input.readableBytes)
        case .malformed:
            var longer = input
            longer.writeBytes([0x0D, 0x0A, 0x00, 0x20])
            if case .malformed = decode(longer) {} else { preconditionFailure("more bytes repaired a malformed header") }
        }
    }

    static func checkComplete(_ header: ProxyHeader, length: Int, input: ByteBuffer, result: ProxyHeaderDecoder.Result) {
        precondition(length > 0 && length <= input.readableBytes, "header length out of range")
        let exact = input.getSlice(at: input.readerIndex, length: length)!
        precondition(decode(exact) == result, "the header alone decodes differently")
        var longer = input
        longer.writeBytes([0x10, 0x00, 0xFF])
        precondition(decode(longer) == result, "bytes after the header changed it")
        checkPrefixesNeedMore(input, below: length)
        // A header with both addresses and no checksum re-encodes to one that decodes to the same addresses.
        guard header.command == .proxy, header.source != nil, header.destination != nil,
              !header.tlvs.contains(where: { $0.type == ProxyTLV.crc32c })
        else { return }
        let wire = ByteBuffer(bytes: header.encoded())
        guard case .complete(let again, let n) = decode(wire) else {
            preconditionFailure("the re-encoded header does not decode: \(decode(wire))")
        }
        precondition(n == wire.readableBytes, "the re-encoded header's length differs")
        precondition(again.version == header.version && again.command == header.command
                     && again.source == header.source && again.destination == header.destination,
                     "re-encoding changed the header")
    }

    /// Every prefix of a valid (start of a) header is itself a valid start.
    static func checkPrefixesNeedMore(_ input: ByteBuffer, below end: Int) {
        let step = end <= exhaustivePrefixes ? 1 : end / exhaustivePrefixes + 1
        for length in stride(from: 0, to: end, by: step) {
            guard let prefix = input.getSlice(at: input.readerIndex, length: length) else { continue }
            precondition(decode(prefix) == .needMoreBytes, "prefix of \(length) bytes of a valid start gave \(decode(prefix))")
        }
    }
}

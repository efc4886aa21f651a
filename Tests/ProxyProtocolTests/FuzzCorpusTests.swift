import Foundation
import NIOCore
import ProxyProtocol
import Testing

@Suite("PROXY header fuzz seed corpus")
struct FuzzCorpusTests {
    /// The seed corpus of `scripts/fuzz.sh proxy-header`, and inputs the fuzzer once found.
    static func corpus() throws -> [URL] {
        let directory = try #require(
            Bundle.module.url(forResource: "fuzz-corpus", withExtension: nil, subdirectory: "Fixtures"))
        return try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    @Test func inputsDecodeAsTheirNamesSayAndEveryPrefixOfAHeaderNeedsMore() throws {
        let files = try Self.corpus()
        #expect(files.count >= 19)
        for url in files {
            let bytes = ByteBuffer(bytes: [UInt8](try Data(contentsOf: url)))
            let name = url.lastPathComponent
            let result = ProxyHeaderDecoder.decode(bytes)
            if name.hasPrefix("valid-") {
                guard case .complete(_, let length) = result else {
                    Issue.record("\(name): \(result)")
                    continue
                }
                for n in 0..<length {
                    #expect(ProxyHeaderDecoder.decode(bytes.getSlice(at: 0, length: n)!) == .needMoreBytes,
                            "\(name) prefix \(n)")
                }
            } else if name.hasPrefix("partial-") {
                #expect(result == .needMoreBytes, "\(name): \(result)")
            } else {
                if case .malformed = result {} else { Issue.record("\(name): \(result)") }
            }
        }
    }
}

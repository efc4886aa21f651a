import Foundation
import NIOCore
import Testing
import TLSWire

/// The ClientHello reader on ClientHellos made by a real TLS library (Python's ssl, OpenSSL: committed fixtures), on
/// their prefixes and on what is not TLS.
@Suite("TLS ClientHello reader")
struct ClientHelloTests {
    static func fixture(_ name: String) throws -> [UInt8] {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: "bin"))
        return Array(try Data(contentsOf: url))
    }

    static func parse(_ bytes: [UInt8]) -> ClientHello.ParseResult { ClientHello.parse(ByteBuffer(bytes: bytes)) }

    @Test(arguments: [("client-hello-tls13", "mqtt.example.com"), ("client-hello-tls12", "broker-7.example.net"),
                      ("client-hello-two-records", "mqtt.example.com")])
    func theServerNameIsReadLowercasedWithTheSignatureSchemes(name: String, host: String) throws {
        let bytes = try Self.fixture(name)
        guard case .hello(let hello) = Self.parse(bytes) else {
            Issue.record("\(name) not read as a ClientHello: \(Self.parse(bytes))")
            return
        }
        #expect(hello.serverName == host)
        #expect(hello.signatureSchemes.contains(0x0403), "ecdsa_secp256r1_sha256 is offered by OpenSSL")
        #expect(hello.signatureSchemes.contains(0x0804), "rsa_pss_rsae_sha256 is offered by OpenSSL")
    }

    @Test func aHelloWithoutServerNameHasNone() throws {
        guard case .hello(let hello) = Self.parse(try Self.fixture("client-hello-no-sni")) else {
            Issue.record("not read")
            return
        }
        #expect(hello.serverName == nil)
        #expect(!hello.signatureSchemes.isEmpty)
    }

    @Test func everyPrefixNeedsMoreBytesAndTrailingBytesChangeNothing() throws {
        for name in ["client-hello-tls13", "client-hello-two-records"] {
            let bytes = try Self.fixture(name)
            let whole = Self.parse(bytes)
            for length in 0..<bytes.count {
                #expect(Self.parse(Array(bytes.prefix(length))) == .needMoreBytes, "\(name), prefix of \(length)")
            }
            // What a client sends next (its Finished, an early CONNECT) is not looked at.
            #expect(Self.parse(bytes + [0x17, 0x03, 0x03, 0x00, 0x10] + Array(repeating: 0xAB, count: 16)) == whole)
        }
    }

    @Test func plaintextMQTTAndOtherRecordsAreNotTLSWithTheReason() {
        let connect: [UInt8] = [0x10, 0x10, 0x00, 0x04, 0x4D, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x3C, 0x00, 0x04,
                                0x61, 0x62, 0x63, 0x64]
        guard case .notTLS(let reason) = Self.parse(connect) else {
            Issue.record("a CONNECT was taken for TLS")
            return
        }
        #expect(reason.contains("0x10"))
        #expect(Self.parse([0x16, 0x02, 0x00, 0x00, 0x05]) == .notTLS("record version 2.0 is not TLS"))
        #expect(Self.parse([0x16, 0x03, 0x01, 0x00, 0x00]) == .notTLS("record length 0 is invalid"))
        #expect(Self.parse([0x16, 0x03, 0x01, 0x00, 0x04, 0x02, 0x00, 0x00, 0x00]) ==
            .notTLS("first handshake message is not a ClientHello"))
    }

    @Test func aHandshakeAnnouncingMoreThanTheLimitIsRefusedBeforeItArrives() {
        let length = ClientHello.maxLength + 1
        let header: [UInt8] = [0x16, 0x03, 0x01, 0x00, 0x04, 0x01, UInt8(length >> 16), UInt8((length >> 8) & 0xFF),
                               UInt8(length & 0xFF)]
        #expect(Self.parse(header) == .notTLS("ClientHello of \(length) bytes is too large"))
    }

    @Test func aBodyCutShortInsideItsExtensionsIsMalformed() throws {
        var bytes = try Self.fixture("client-hello-tls12")
        // Claim one more byte of extensions than the body holds (the last two bytes of the body's header).
        let bodyStart = 9
        let sessionLength = Int(bytes[bodyStart + 34])
        let suitesAt = bodyStart + 35 + sessionLength
        let suitesLength = Int(bytes[suitesAt]) << 8 | Int(bytes[suitesAt + 1])
        let compressionAt = suitesAt + 2 + suitesLength
        let extensionsAt = compressionAt + 1 + Int(bytes[compressionAt])
        let declared = Int(bytes[extensionsAt]) << 8 | Int(bytes[extensionsAt + 1])
        bytes[extensionsAt] = UInt8((declared + 1) >> 8)
        bytes[extensionsAt + 1] = UInt8((declared + 1) & 0xFF)
        #expect(Self.parse(bytes) == .notTLS("malformed ClientHello"))
    }
}

/// The fuzzer's committed seeds (`scripts/fuzz.sh client-hello`) replayed: each still reads as it did.
@Suite("TLS ClientHello reader: the fuzz seed corpus")
struct ClientHelloCorpusTests {
    @Test func everySeedReadsAsItsNameSays() throws {
        let folder = try #require(Bundle.module.url(forResource: "fuzz-corpus", withExtension: nil,
                                                    subdirectory: "Fixtures"))
        let files = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
        #expect(files.count >= 7)
        for file in files {
            let result = ClientHelloTests.parse(Array(try Data(contentsOf: file)))
            let name = file.lastPathComponent
            switch result {
            case .hello: #expect(name.hasPrefix("client-hello") || name == "no-extensions", "\(name)")
            case .notTLS: #expect(name == "mqtt-connect", "\(name): \(result)")
            case .needMoreBytes: #expect(name == "truncated-header", "\(name)")
            }
        }
    }
}

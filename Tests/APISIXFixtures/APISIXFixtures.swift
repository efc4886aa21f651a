import Foundation
import Testing

/// APISIX's own test cases, kept once for every test target that checks them (copied from the project's shared
/// vectors; nothing reads `../shared` at test time).
public enum APISIXFixtures {
    /// The CONNECT cases of APISIX's mqtt-proxy tests (`mqtt-proxy.t`, `mqtt-proxy2.t`): 14 of them.
    public static func connectVectors(sourceLocation: SourceLocation = #_sourceLocation) throws -> [ConnectVector] {
        struct File: Decodable { var vectors: [ConnectVector] }
        return try load(File.self, "apisix-mqtt-connect", sourceLocation).vectors
    }

    /// The chash placements APISIX's tests assert: 3 of them.
    public static func chashVectors(sourceLocation: SourceLocation = #_sourceLocation) throws -> [ChashVector] {
        struct File: Decodable { var cases: [ChashVector] }
        return try load(File.self, "apisix-chash", sourceLocation).cases
    }

    /// Reads `Vectors/<name>.json`; a missing or unreadable file fails the test that asked (never zero cases).
    private static func load<T: Decodable>(_ type: T.Type, _ name: String, _ sourceLocation: SourceLocation) throws
        -> T
    {
        let url = try #require(Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Vectors"),
                               "fixture Vectors/\(name).json is missing from the APISIXFixtures bundle",
                               sourceLocation: sourceLocation)
        return try JSONDecoder().decode(T.self, from: Data(contentsOf: url))
    }
}

/// One CONNECT case: the bytes a client sends first and what APISIX does with them.
public struct ConnectVector: Decodable, Sendable, CustomTestStringConvertible {
    public var name: String
    /// The route's mqtt-proxy settings; nil for the partial-CONNECT case that never completes.
    public var protocolName: String?
    public var protocolLevel: UInt8?
    public var hexInput: String
    /// APISIX's observed outcome, in words.
    public var expect: String
    public var clientID: String?

    enum CodingKeys: String, CodingKey {
        case name, expect
        case protocolName = "protocol_name"
        case protocolLevel = "protocol_level"
        case hexInput = "hex_input"
        case clientID = "client_id"
    }

    public var testDescription: String { name }

    /// The input bytes.
    public var bytes: [UInt8] { hexBytes(hexInput) }
}

/// One chash placement: nodes with weights, the key hashed, and the node APISIX picked.
public struct ChashVector: Decodable, Sendable, CustomTestStringConvertible {
    public var nodes: [String: Int]
    public var key: String
    public var expect: String

    public var testDescription: String { "\(key) → \(expect)" }
}

/// Bytes from a hex string such as "100f0004".
public func hexBytes(_ hex: String) -> [UInt8] {
    var result: [UInt8] = []
    var iterator = hex.makeIterator()
    while let high = iterator.next(), let low = iterator.next() {
        if let byte = UInt8(String([high, low]), radix: 16) { result.append(byte) }
    }
    return result
}

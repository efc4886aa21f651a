import Foundation
import ProxyModel
import Testing

/// The `json` and `yaml-store` fuzz targets' committed seeds (`scripts/fuzz.sh json|yaml-store`) replayed through
/// the same properties: written JSON parses back to itself; a store read without problems reads back the same.
@Suite("Fuzz seeds: admin JSON bodies and the YAML store")
struct FuzzCorpusTests {
    static func seeds(_ folder: String) throws -> [(String, [UInt8])] {
        let url = try #require(Bundle.module.url(forResource: "fuzz-corpus/\(folder)", withExtension: nil,
                                                 subdirectory: "Fixtures"))
        return try FileManager.default.contentsOfDirectory(at: url, includingPropertiesForKeys: nil)
            .map { ($0.lastPathComponent, Array(try Data(contentsOf: $0))) }
    }

    @Test func jsonSeedsRoundTripAndValidateWithoutTrapping() throws {
        let seeds = try Self.seeds("json")
        #expect(seeds.count >= 6)
        for (name, bytes) in seeds {
            guard let value = try? JSONParser.parse(bytes) else { continue }
            #expect((try? JSONParser.parse(value.jsonText))?.isSameJSON(as: value) == true, "\(name)")
            for kind in ResourceKind.allCases { _ = try? ProxyResources.validate(kind: kind, json: value, id: "1") }
        }
        let route = try #require(seeds.first { $0.0 == "seed-route-chash" })
        #expect(throws: Never.self) { try ProxyResources.validate(kind: .streamRoutes, json: try JSONParser.parse(route.1), id: "1") }
    }

    @Test func yamlSeedsThatReadCleanlyReadBackTheSame() throws {
        let seeds = try Self.seeds("yaml")
        var clean = 0
        for (name, bytes) in seeds {
            let (resources, problems) = StandaloneFormat.decode(text: String(decoding: bytes, as: UTF8.self), file: name)
            guard problems.isEmpty else { continue }
            clean += 1
            let (reread, again) = StandaloneFormat.decode(text: StandaloneFormat.encode(resources), file: "written")
            #expect(again.isEmpty, "\(name): \(again)")
            #expect(reread.streamRoutes.keys == resources.streamRoutes.keys, "\(name)")
            #expect(reread.upstreams.keys == resources.upstreams.keys, "\(name)")
        }
        #expect(clean >= 2, "the shipped store and the upstreams seed read cleanly")
    }
}

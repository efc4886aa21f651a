import Foundation
import NIOCore
import ProxyModel

/// Properties of what the admin API and the store read from outside: the JSON body parser (with the validation an
/// admin request goes through) and the APISIX standalone YAML file. Whatever the input: deterministic; a parsed JSON
/// value written out parses back to itself; validating it as any kind of object throws or succeeds, never traps; a
/// YAML store read without problems, written out, reads back to the same content. (Found at once: `1e400` parsed as
/// infinity, which is written as `null`; numbers out of range are refused now.)
enum JSONInvariants {
    static func check(_ input: ByteBuffer) {
        let bytes = Array(input.readableBytesView)
        let first = try? JSONParser.parse(bytes)
        precondition((try? JSONParser.parse(bytes)) == first, "parse is not deterministic")
        guard let value = first else { return }
        let text = value.jsonText
        let back = try? JSONParser.parse(text)
        precondition(back?.isSameJSON(as: value) == true, "written JSON does not parse back to the same value")
        for kind in ResourceKind.allCases {
            _ = try? ProxyResources.validate(kind: kind, json: value, id: nil)
            _ = try? ProxyResources.validate(kind: kind, json: value, id: "1")
        }
    }
}

enum YAMLStoreInvariants {
    static func check(_ input: ByteBuffer) {
        let text = String(decoding: input.readableBytesView, as: UTF8.self)
        let (resources, problems) = StandaloneFormat.decode(text: text, file: "fuzz.yaml")
        let again = StandaloneFormat.decode(text: text, file: "fuzz.yaml")
        // Problems compare by where they are, not by their text: Yams lists duplicated keys in a set's order, which
        // differs between two parses of one text (found by this target: "'<uncovertable>', 'upstreams'" one time,
        // the other order the next).
        precondition(again.0 == resources && again.1.map(\.position) == problems.map(\.position),
                     "decode is not deterministic")
        guard problems.isEmpty else { return }
        let written = StandaloneFormat.encode(resources)
        let (reread, reproblems) = StandaloneFormat.decode(text: written, file: "written.yaml")
        precondition(reproblems.isEmpty, "a written store does not read back: \(reproblems)")
        precondition(reread.streamRoutes.keys == resources.streamRoutes.keys
            && reread.upstreams.keys == resources.upstreams.keys && reread.ssls.keys == resources.ssls.keys,
            "a written store reads back with other objects")
        for (id, route) in resources.streamRoutes {
            precondition(reread.streamRoutes[id]?.value == route.value, "stream route \(id) changed on the way")
        }
        for (id, upstream) in resources.upstreams {
            precondition(reread.upstreams[id]?.value == upstream.value, "upstream \(id) changed on the way")
        }
    }
}

import ProxyModel
import Testing

@Suite("YAML documents with positions")
struct YAMLDocumentTests {
    @Test func convertsScalarsWithTheirTypes() throws {
        let doc = try YAMLDocument(text: "a: 1\nb: 1.5\nc: true\nd: ~\ne: \"1\"\nf: text\n", file: "t.yaml")
        #expect(doc.root["a"] == .int(1))
        #expect(doc.root["b"] == .double(1.5))
        #expect(doc.root["c"] == .bool(true))
        #expect(doc.root["d"] == .null)
        #expect(doc.root["e"] == .string("1"))
        #expect(doc.root["f"] == .string("text"))
    }

    @Test func remembersWhereEachValueIs() throws {
        let text = "top:\n  list:\n    - x: 1\n    - y: 2\n"
        let doc = try YAMLDocument(text: text, file: "t.yaml")
        #expect(doc.position(of: "top.list[1].y") == SourcePosition(line: 4, column: 10))
        // Unknown paths fall back to the nearest ancestor.
        #expect(doc.position(of: "top.list[1].y.deeper") == SourcePosition(line: 4, column: 10))
    }

    @Test func syntaxErrorsNameTheLine() {
        do {
            _ = try YAMLDocument(text: "a: 1\nb: [1, 2\nc: 3\n", file: "bad.yaml")
            Issue.record("expected a syntax error")
        } catch {
            #expect(error.file == "bad.yaml")
            #expect(error.position != nil)
            #expect(error.description.hasPrefix("bad.yaml:"))
        }
    }

    @Test func duplicateKeysAreRefused() {
        #expect(throws: SourceError.self) { try YAMLDocument(text: "a: 1\na: 2\n", file: "d.yaml") }
    }

    @Test func writerOutputReadsBackTheSame() throws {
        let value: JSONValue = [
            "id": "1", "n": 2, "yes": "yes", "num": "42", "empty": "", "pem": "-----BEGIN-----\nabc\n-----END-----\n",
            "list": [1, "two", ["k": false]], "spaces": "a b: c", "f": 1.5,
        ]
        let text = YAMLWriter.document(value)
        let back = try YAMLDocument(text: text, file: "w.yaml")
        #expect(back.root == value)
    }
}

import ProxyModel
import Testing

@Suite("JSON parser and encoder")
struct JSONParserTests {
    @Test func keepsKeyOrderAndIntegerness() throws {
        let v = try JSONParser.parse(#"{"b": 1, "a": 2.5, "c": [true, null, "x"]}"#)
        #expect(v.objectValue.map { Array($0.keys) } == ["b", "a", "c"])
        #expect(v["b"] == .int(1))
        #expect(v["a"] == .double(2.5))
        #expect(v["c"] == .array([.bool(true), .null, .string("x")]))
        #expect(v.jsonText == #"{"b":1,"a":2.5,"c":[true,null,"x"]}"#)
    }

    @Test func decodesEscapesAndSurrogates() throws {
        let v = try JSONParser.parse(#""a\"b\\c\n\u00e9\ud83d\ude00""#)
        #expect(v == .string("a\"b\\c\né😀"))
        #expect(try JSONParser.parse(v.jsonText) == v)
    }

    @Test(arguments: [
        ("", "unexpected end of input"),
        ("{", "expected a string key"),
        (#"{"a" 1}"#, "expected ':'"),
        (#"{"a":1,"a":2}"#, "duplicate key"),
        ("[1,]", "unexpected character"),
        ("01", "unexpected data after"),
        (#""\ud800""#, "unpaired surrogate"),
        ("tru", "invalid literal"),
        ("{} x", "unexpected data after"),
        ("[1e400]", "number out of range: 1e400"),
        ("-1E+999", "number out of range"),
    ])
    func rejectsInvalidJSON(text: String, reason: String) {
        #expect {
            _ = try JSONParser.parse(text)
        } throws: { error in
            (error as? JSONParseError)?.reason.contains(reason) == true
        }
    }

    @Test func wholeDoublesAreWrittenAsIntegersAndStayTheSameJSON() throws {
        let v = try JSONParser.parse("[-0.5e+3, 2.5, {\"w\": 1.0}]")
        #expect(v.jsonText == "[-500,2.5,{\"w\":1}]")
        let back = try JSONParser.parse(v.jsonText)
        #expect(back != v, "500.0 comes back as the integer 500")
        #expect(back.isSameJSON(as: v))
        #expect(!back.isSameJSON(as: try JSONParser.parse("[-500, 2.5, {\"w\": 2}]")))
        #expect(!JSONValue.int(1).isSameJSON(as: .string("1")))
    }

    @Test func reportsTheOffset() {
        do {
            _ = try JSONParser.parse(#"{"a": tru}"#)
            Issue.record("expected an error")
        } catch {
            #expect(error.offset == 9)
        }
    }

    @Test func prettyTextRoundTrips() throws {
        let v: JSONValue = ["id": "1", "nodes": [["host": "127.0.0.1", "port": 1883, "weight": 1]], "x": [:]]
        #expect(try JSONParser.parse(v.prettyJSONText) == v)
    }
}

import NIOCore
import ProxyModel
import Testing
@testable import RouteStore

/// The admin client's reader of `/v1/stream`: messages split across chunks, comments, CRLF, non-JSON data.
@Suite("Server-sent events: the admin client's parser")
struct EventStreamParserTests {
    @Test func messagesArriveWholeWhateverTheChunksAndCommentsAreSignsOfLife() {
        let text = "event: hello\ndata: {\"version\":3,\"next\":0}\n\n: keep-alive\n\nevent: change\r\ndata: {\"version\":4}\r\n\r\n"
        for size in [1, 2, 7, text.utf8.count] {
            var parser = EventStreamParser()
            var messages: [AdminStreamMessage] = []
            let bytes = Array(text.utf8)
            for start in stride(from: 0, to: bytes.count, by: size) {
                messages += parser.feed(ByteBuffer(bytes: bytes[start..<min(bytes.count, start + size)]))
            }
            #expect(messages.map(\.event) == ["hello", "comment", "change"], "chunks of \(size)")
            #expect(messages[1].data == "keep-alive")
            #expect(messages.first?.data["version"] == 3)
            #expect(messages.last?.data["version"] == 4)
        }
    }

    @Test func dataThatIsNotJSONIsKeptAsTextAndUnnamedMessagesAreMessages() {
        var parser = EventStreamParser()
        let out = parser.feed(ByteBuffer(string: "data: plain words\ndata: second line\n\n"))
        #expect(out.count == 1)
        #expect(out.first?.event == "message")
        #expect(out.first?.data == .string("plain words\nsecond line"))
    }
}

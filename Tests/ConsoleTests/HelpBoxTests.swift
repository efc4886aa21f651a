@testable import Console
import Testing

@Suite("Help box: every key at any size, wrapped and scrolled")
struct HelpBoxTests {
    /// The text inside the help box's borders, one string per row between its top and bottom edges.
    static func boxRows(_ lines: [String]) -> [String] {
        guard let top = lines.firstIndex(where: { $0.contains("Keys — Esc closes") }) else { return [] }
        return lines[(top + 1)...].prefix { !$0.contains("└") }.compactMap { line -> String? in
            guard let first = line.firstIndex(of: "│"), let last = line.lastIndex(of: "│"), first < last else { return nil }
            return String(line[line.index(after: first)..<last])
        }
    }

    static func collapsed(_ s: String) -> String {
        s.split(whereSeparator: { $0 == " " }).joined(separator: " ")
    }

    /// Scrolls through the help with ↓ until the footer says the end is shown; returns every line of the help
    /// in order (placed by the footer's line numbers) and how many screens it took.
    static func readAll(_ c: ConsoleController, width: Int, height: Int) -> (rows: [String], screens: Int) {
        var byLine: [Int: String] = [:]
        var screens = 0
        for _ in 0..<200 {
            screens += 1
            let rows = boxRows(Fixture.render(c, width: width, height: height))
            guard let footer = rows.last, footer.contains("scroll ·"),
                  let range = footer.range(of: #"(\d+)–(\d+) of (\d+)"#, options: .regularExpression)
            else {
                return (rows, screens)
            }
            let n = footer[range].split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
            for (offset, row) in rows.dropLast().enumerated() { byLine[n[0] + offset] = row }
            if n[1] == n[2] { break }
            _ = c.handle(.down, data: Fixture.data())
        }
        return (byLine.keys.sorted().map { byLine[$0]! }, screens)
    }

    @Test(arguments: [(80, 24, false), (80, 24, true), (100, 30, true), (120, 36, false)])
    func everyKeyAndItsWholeDescriptionCanBeReadAt(width: Int, height: Int, demo: Bool) {
        let c = ConsoleController(demo: demo)
        _ = c.handle(.char("?"), data: Fixture.data())
        let (rows, screens) = Self.readAll(c, width: width, height: height)
        if height < 30 { #expect(screens > 1, "\(width)×\(height) should need scrolling") }
        let text = Self.collapsed(rows.joined(separator: " "))
        for b in KeyTable.bindings where demo || !b.demoOnly {
            #expect(text.contains(Self.collapsed(b.help)), "\(width)×\(height): help lacks \(b.help)")
            for key in b.keys {
                #expect(text.contains(KeyTable.name(key)), "\(width)×\(height): help lacks the key \(KeyTable.name(key))")
            }
        }
        #expect(text.contains("Esc"))
    }

    @Test func atTwoHundredBySixtyEverythingFitsWithoutScrolling() {
        let c = ConsoleController(demo: true)
        _ = c.handle(.char("?"), data: Fixture.data())
        let rows = Self.boxRows(Fixture.render(c, width: 200, height: 60))
        #expect(!rows.contains { $0.contains("scroll ·") })
        for b in KeyTable.bindings {
            #expect(rows.contains { $0.contains(b.help) }, "help lacks \(b.help)")
        }
    }

    @Test func scrollingMovesAtOnceAfterEndAndHomeReturnsToTheTop() {
        let c = ConsoleController(demo: true)
        let data = Fixture.data()
        _ = c.handle(.char("?"), data: data)
        func footer() -> String { Self.boxRows(Fixture.render(c, width: 80, height: 24)).last ?? "" }
        #expect(footer().contains("1–"))
        _ = c.handle(.end, data: data)
        let atEnd = footer()
        _ = c.handle(.up, data: data)
        #expect(footer() != atEnd, "the first ↑ after End moves")
        _ = c.handle(.pageDown, data: data)
        _ = c.handle(.home, data: data)
        #expect(footer().contains(" 1–"))
        _ = c.handle(.escape, data: data)
        #expect(c.state.overlay == nil)
    }

    @Test func reopeningStartsAtTheTop() {
        let c = ConsoleController()
        let data = Fixture.data()
        _ = c.handle(.char("?"), data: data)
        _ = c.handle(.pageDown, data: data)
        _ = c.handle(.char("?"), data: data)
        #expect(c.state.overlay == nil)
        _ = c.handle(.char("?"), data: data)
        #expect(c.state.helpScroll == 0)
    }

    @Test func wrapKeepsWordsAndIndentsContinuations() {
        let text = "x".padding(toLength: 12, withPad: " ", startingAt: 0) + "one two three four five six seven eight"
        let lines = HelpBox.wrap(text, width: 30)
        #expect(lines.count > 1)
        #expect(lines.allSatisfy { CellGrid.displayWidth($0) <= 30 })
        #expect(lines.dropFirst().allSatisfy { $0.hasPrefix(String(repeating: " ", count: HelpBox.keyColumn)) })
        #expect(Self.collapsed(lines.joined(separator: " ")) == Self.collapsed(text))
        // A word longer than the line is cut, not lost.
        let long = HelpBox.wrap(String(repeating: "a", count: 50), width: 20)
        #expect(long.joined().filter { $0 == "a" }.count == 50)
        #expect(HelpBox.wrap("short", width: 20) == ["short"])
    }
}

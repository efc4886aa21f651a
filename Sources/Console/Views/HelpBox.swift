import Foundation

/// The help box: every key from the key table, descriptions wrapped to the box, scrolled when the terminal is
/// too short to show them all (with a footer telling where it is and how to scroll).
enum HelpBox {
    /// Width of the key column; descriptions start after it, and wrapped lines are indented to it.
    static let keyColumn = 12

    struct Layout {
        /// Every line of the help at this width.
        let lines: [(String, Role)]
        /// How many fit in the box at once.
        let visible: Int
        /// The first line shown, within the text.
        let scroll: Int
        /// The box's inner width (the same on every page, so the box does not change size while scrolling).
        let inner: Int
        var scrolls: Bool { lines.count > visible }
    }

    static func layout(_ state: ConsoleState, width: Int, height: Int) -> Layout {
        let entries = Overlays.helpLines(readonly: state.readonly, demo: state.demo)
        let widest = entries.map { CellGrid.displayWidth($0.0) }.max() ?? 0
        // The same inner width `Overlays.box` picks for lines this wide.
        let inner = max(1, min(width - 4, max(30, widest)))
        let lines = entries.flatMap { entry in wrap(entry.0, width: inner).map { line in (line, entry.1) } }
        let rows = max(1, min(height - 2, lines.count + 2) - 2)
        // A footer takes the last row when not everything fits.
        let visible = lines.count > rows ? max(1, rows - 1) : rows
        let scroll = min(max(0, state.helpScroll), max(0, lines.count - visible))
        return Layout(lines: lines, visible: visible, scroll: scroll, inner: inner)
    }

    static func draw(_ state: ConsoleState, _ grid: inout CellGrid) {
        let layout = layout(state, width: grid.width, height: grid.height)
        var shown = Array(layout.lines.dropFirst(layout.scroll).prefix(layout.visible))
        if layout.scrolls {
            let last = min(layout.lines.count, layout.scroll + layout.visible)
            shown.append(("↑/↓ PgUp/PgDn Home/End scroll · \(layout.scroll + 1)–\(last) of \(layout.lines.count)", .dim))
        }
        Overlays.box("Keys — Esc closes", shown, &grid, minWidth: layout.inner)
    }

    /// One help entry over lines of at most `width` columns: words wrap, continuation lines are indented to the
    /// description column (or not at all when the box is narrower than that column), over-long words are cut.
    static func wrap(_ text: String, width: Int) -> [String] {
        guard CellGrid.displayWidth(text) > width else { return [text] }
        let indent = width > keyColumn + 10 ? String(repeating: " ", count: keyColumn) : ""
        var lines: [String] = []
        var current = ""
        var currentWidth = 0
        func flush() {
            lines.append(current)
            current = indent
            currentWidth = indent.count
        }
        // The key column is kept whole (its padding is spaces, split like any other).
        for word in text.split(separator: " ", omittingEmptySubsequences: false).map(String.init) {
            var word = word
            let gap = currentWidth == 0 || currentWidth == indent.count && !lines.isEmpty ? 0 : 1
            if currentWidth + gap + CellGrid.displayWidth(word) <= width {
                current += (gap == 1 ? " " : "") + word
                currentWidth += gap + CellGrid.displayWidth(word)
                continue
            }
            if !current.trimmingCharacters(in: .whitespaces).isEmpty { flush() }
            while CellGrid.displayWidth(word) > width - currentWidth {
                let room = max(1, width - currentWidth)
                current += String(word.prefix(room))
                word = String(word.dropFirst(room))
                flush()
            }
            current += word
            currentWidth += CellGrid.displayWidth(word)
        }
        if !current.trimmingCharacters(in: .whitespaces).isEmpty { lines.append(current) }
        return lines
    }
}

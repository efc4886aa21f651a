/// What a cell means on screen; the curses backend maps each role to colours or, without colour, to
/// bold/reverse/dim attributes.
public enum Role: UInt8, Sendable, CaseIterable {
    case normal
    case header          // title bar and column headers
    case selected        // the highlighted row
    case dim             // secondary text
    case accent          // names, keys in the footer
    case good            // healthy, connected
    case warning         // retries, skew
    case bad             // rejections, failures
    case bar             // distribution bars
    case expected        // expected-share marks
    case border          // frames of overlays
    case input           // text being typed
}

/// One character position: the grapheme shown there and its role. A wide grapheme occupies its cell and
/// the next, which holds `continuation`.
public struct Cell: Sendable, Equatable {
    public var character: Character
    public var role: Role
    public static let blank = Cell(character: " ", role: .normal)
    /// Marks the second half of a double-width grapheme.
    public static let continuation = Cell(character: "\u{0}", role: .normal)
}

/// An off-screen screen: views draw into it, tests read its text, the curses backend copies it out.
public struct CellGrid: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public private(set) var cells: [Cell]
    /// Which row of the view's list each screen row shows (views fill it as they draw), so that a mouse click
    /// selects what was under it.
    public var itemRows: [Int: Int] = [:]

    public init(width: Int, height: Int) {
        self.width = max(0, width)
        self.height = max(0, height)
        cells = Array(repeating: .blank, count: self.width * self.height)
    }

    public subscript(row: Int, column: Int) -> Cell {
        get { cells[row * width + column] }
        set { cells[row * width + column] = newValue }
    }

    /// Writes `text` from (`row`, `column`), clipped at `maxWidth` columns (and the grid edge); a clipped
    /// text ends with `…`. Returns the number of columns used.
    @discardableResult
    public mutating func put(_ text: String, row: Int, column: Int, role: Role = .normal, maxWidth: Int? = nil)
        -> Int
    {
        guard row >= 0, row < height, column < width else { return 0 }
        let limit = min(maxWidth ?? (width - column), width - max(column, 0))
        guard limit > 0 else { return 0 }
        let total = CellGrid.displayWidth(text)
        var col = column
        var used = 0
        for ch in text {
            let w = CellGrid.displayWidth(ch)
            let reserve = total > limit ? 1 : 0
            if used + w > limit - reserve {
                if total > limit, used < limit, col >= 0 {
                    self[row, col] = Cell(character: "…", role: role)
                    used += 1
                }
                break
            }
            if col >= 0 {
                self[row, col] = Cell(character: ch, role: role)
                if w == 2, col + 1 < width { self[row, col + 1] = .continuation }
            }
            col += w
            used += w
        }
        return used
    }

    /// Fills `count` columns of a row from `column` with `character`.
    public mutating func fill(row: Int, column: Int = 0, count: Int? = nil, character: Character = " ",
                              role: Role = .normal)
    {
        guard row >= 0, row < height else { return }
        let end = min(width, column + (count ?? width))
        var c = max(0, column)
        while c < end {
            self[row, c] = Cell(character: character, role: role)
            c += 1
        }
    }

    /// Sets the role of a span without changing its characters (row highlight).
    public mutating func paint(row: Int, column: Int = 0, count: Int? = nil, role: Role) {
        guard row >= 0, row < height else { return }
        let end = min(width, column + (count ?? width))
        var c = max(0, column)
        while c < end {
            cells[row * width + c].role = role
            c += 1
        }
    }

    /// The text of one row (continuation cells dropped, trailing spaces kept).
    public func text(row: Int) -> String {
        var s = ""
        for c in 0..<width {
            let cell = self[row, c]
            if cell != .continuation { s.append(cell.character) }
        }
        return s
    }

    /// Every row's text, trailing spaces trimmed: what tests assert on.
    public var lines: [String] {
        (0..<height).map { row in
            var t = text(row: row)
            while t.last == " " { t.removeLast() }
            return t
        }
    }

    /// Columns a string takes on a terminal.
    public static func displayWidth(_ s: String) -> Int { s.reduce(0) { $0 + displayWidth($1) } }

    /// Columns a grapheme takes: 2 for East Asian wide and emoji presentation, 1 otherwise.
    public static func displayWidth(_ c: Character) -> Int {
        guard let scalar = c.unicodeScalars.first else { return 0 }
        let v = scalar.value
        if scalar.properties.isEmojiPresentation { return 2 }
        if (0x1100...0x115F).contains(v) || (0x2E80...0xA4CF).contains(v) || (0xAC00...0xD7A3).contains(v)
            || (0xF900...0xFAFF).contains(v) || (0xFE30...0xFE4F).contains(v) || (0xFF00...0xFF60).contains(v)
            || (0xFFE0...0xFFE6).contains(v) || (0x20000...0x3FFFD).contains(v)
        {
            return 2
        }
        return 1
    }
}

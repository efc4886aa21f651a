import CNCursesw
import Foundation

/// Why the console cannot take over the terminal.
public enum ConsoleTerminalError: Error, CustomStringConvertible, Sendable {
    /// No usable interactive terminal; the text says which check failed.
    case noTerminal(String)

    public var description: String {
        switch self {
        case .noTerminal(let why):
            return "the console needs an interactive terminal: \(why); run `mqtt-proxy serve` to run headless"
        }
    }
}

/// The only code that calls curses. Owned by the console's UI thread: created, used and restored there.
///
/// It copies `CellGrid`s to the terminal cell by cell, touching only the cells that changed since the last
/// frame, and translates curses key codes into `Key`s.
final class CursesScreen {
    private let screen: OpaquePointer
    private let window: UnsafeMutablePointer<WINDOW>
    private let palette: Palette
    private var lastGrid: CellGrid?
    private var active = true
    private var readTimeout: Int32 = -2

    /// Checks, without touching the screen, that standard input and output are a terminal curses can drive.
    /// Returns what is wrong, or nil.
    static func terminalProblem(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        if isatty(STDIN_FILENO) == 0 { return "standard input is not a terminal" }
        if isatty(STDOUT_FILENO) == 0 { return "standard output is not a terminal" }
        guard let term = environment["TERM"], !term.isEmpty else { return "TERM is not set" }
        if term == "dumb" { return "TERM=dumb cannot show a full-screen interface" }
        switch mp_terminfo_status(term) {
        case 1: return nil
        case 0: return "TERM=\(term) is not in the terminfo database (install ncurses-term or set another TERM)"
        default: return "no terminfo database found for TERM=\(term)"
        }
    }

    /// Takes over the terminal: locale, cbreak, no echo, keypad, hidden cursor, colours unless `NO_COLOR`.
    init(environment: [String: String] = ProcessInfo.processInfo.environment) throws(ConsoleTerminalError) {
        if let problem = CursesScreen.terminalProblem(environment: environment) { throw .noTerminal(problem) }
        // Only the character set: curses needs it for UTF-8, and LC_NUMERIC would change how C formatting
        // (and so YAML written by the store) prints decimals. Without a UTF-8 locale (LANG unset, common in
        // containers and over ssh) box drawing would turn into garbage, so C.UTF-8 stands in.
        setlocale(LC_CTYPE, "")
        if String(cString: nl_langinfo(nl_item(CODESET))) != "UTF-8" { setlocale(LC_CTYPE, "C.UTF-8") }
        guard let screen = mp_newterm() else {
            throw .noTerminal("curses could not open the terminal (TERM=\(environment["TERM"] ?? ""))")
        }
        set_term(screen)
        guard let window = mp_stdscr() else {
            endwin()
            delscreen(screen)
            throw .noTerminal("curses did not create a screen")
        }
        self.screen = screen
        self.window = window
        mp_set_screen_active(1)
        mp_install_restore_handlers()
        cbreak()
        noecho()
        nonl()
        keypad(window, true)
        set_escdelay(25)
        curs_set(0)
        intrflush(window, false)
        if (environment["MQTT_PROXY_NO_MOUSE"] ?? "").isEmpty { mp_enable_mouse() }
        let wantsColour = has_colors() && (environment["NO_COLOR"] ?? "").isEmpty
        palette = wantsColour ? Palette.colour() : Palette.monochrome()
        erase()
        refresh()
    }

    /// The terminal size in cells.
    var size: (width: Int, height: Int) {
        var rows: Int32 = 0
        var columns: Int32 = 0
        mp_getmaxyx(window, &rows, &columns)
        return (Int(max(0, columns)), Int(max(0, rows)))
    }

    /// Waits up to `milliseconds` for a key; nil when none came. Keys curses does not name are dropped.
    func readKey(timeout milliseconds: Int) -> RawKey? {
        let wanted = Int32(max(0, milliseconds))
        if wanted != readTimeout {
            wtimeout(window, wanted)
            readTimeout = wanted
        }
        var ch: wint_t = 0
        let rc = wget_wch(window, &ch)
        if rc == OK { return CursesScreen.translate(character: UInt32(ch)) }
        if rc == KEY_CODE_YES { return CursesScreen.translate(code: Int32(ch)) }
        return nil
    }

    /// Copies `grid` to the terminal. Only cells that differ from the last drawn grid are written; after a
    /// size change (or `invalidate()`) everything is.
    func draw(_ grid: CellGrid) {
        let previous = lastGrid.flatMap { $0.width == grid.width && $0.height == grid.height ? $0 : nil }
        if previous == nil {
            werase(window)
        }
        var points: [wchar_t] = []
        points.reserveCapacity(Int(CCHARW_MAX))
        for row in 0..<grid.height {
            let base = row * grid.width
            for column in 0..<grid.width {
                let cell = grid.cells[base + column]
                if cell == .continuation { continue }
                if let previous, previous.cells[base + column] == cell { continue }
                points.removeAll(keepingCapacity: true)
                for scalar in cell.character.unicodeScalars { points.append(wchar_t(bitPattern: scalar.value)) }
                let style = palette.style(cell.role)
                _ = mp_add_cluster(window, Int32(row), Int32(column), points, Int32(points.count), style.attributes,
                                   style.pair)
            }
        }
        lastGrid = grid
        wnoutrefresh(window)
        doupdate()
    }

    /// Asks the terminal to put `text` on the clipboard (OSC 52, base64). Terminals, tmux (`set-clipboard on`)
    /// and ssh clients that allow it do; the others ignore the sequence. Written after the frame is out, so it
    /// never lands inside curses' output.
    func copyToClipboard(_ text: String) {
        let sequence = "\u{1B}]52;c;\(Data(text.utf8).base64EncodedString())\u{07}"
        fflush(nil)
        _ = sequence.utf8CString.withUnsafeBufferPointer { write(STDOUT_FILENO, $0.baseAddress, $0.count - 1) }
    }

    /// Forgets the last frame so the next `draw` repaints everything from a cleared screen (resize, Ctrl-L).
    func invalidate() {
        lastGrid = nil
        clearok(window, true)
    }

    /// Hands the terminal back (for `$EDITOR`) until `resume()`.
    func suspend() {
        guard active else { return }
        def_prog_mode()
        endwin()
    }

    /// Takes the terminal again after `suspend()` and repaints the whole screen on the next draw.
    func resume() {
        guard active else { return }
        reset_prog_mode()
        refresh()
        invalidate()
    }

    /// Gives the terminal back for good; safe to call more than once.
    func restore() {
        guard active else { return }
        active = false
        if !isendwin() {
            curs_set(1)
            endwin()
        }
        mp_set_screen_active(0)
        delscreen(screen)
    }

    deinit { restore() }
}

/// A key as read from curses, before the console's `Key` (resize and redraw are handled by the loop).
enum RawKey: Equatable {
    case key(Key)
    /// The terminal changed size.
    case resize
    /// Ctrl-L: repaint everything.
    case redraw
}

extension CursesScreen {
    /// A character read by `wget_wch` (not a function key).
    static func translate(character value: UInt32) -> RawKey? {
        switch value {
        case 10, 13: return .key(.enter)
        case 27: return .key(.escape)
        case 9: return .key(.tab)
        case 8, 127: return .key(.backspace)
        case 3: return .key(.interrupt)
        case 12: return .redraw
        case 0..<32: return nil
        default:
            guard let scalar = Unicode.Scalar(value) else { return nil }
            return .key(.char(Character(scalar)))
        }
    }

    /// A function key code (`KEY_*`) read by `wget_wch`.
    static func translate(code: Int32) -> RawKey? {
        switch code {
        case KEY_UP: return .key(.up)
        case KEY_DOWN: return .key(.down)
        case KEY_LEFT: return .key(.left)
        case KEY_RIGHT: return .key(.right)
        case KEY_PPAGE: return .key(.pageUp)
        case KEY_NPAGE: return .key(.pageDown)
        case KEY_HOME: return .key(.home)
        case KEY_END: return .key(.end)
        case KEY_ENTER: return .key(.enter)
        case KEY_BTAB: return .key(.backTab)
        case KEY_BACKSPACE: return .key(.backspace)
        case KEY_DC: return .key(.delete)
        case KEY_RESIZE: return .resize
        case mp_key_mouse():
            var y: Int32 = 0
            var x: Int32 = 0
            switch mp_read_mouse(&y, &x) {
            case 1: return .key(.click(row: Int(y), column: Int(x)))
            case 2: return .key(.wheelUp)
            case 3: return .key(.wheelDown)
            default: return nil
            }
        default: return nil
        }
    }
}

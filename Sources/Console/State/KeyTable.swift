/// What a key does; the key table maps keys to these, per view.
public enum Action: Sendable, Equatable {
    case help, quit, colon, pause
    case view(ViewKind), nextView, previousView
    case up, down, pageUp, pageDown, top, bottom
    case filter, invertFilter, sort, sortReverse, open
    case copyClientID, toggleReadonly, dumpScreen, instanceFilter
    case addRoute, editRoute, editRouteInEditor, deleteRoute, disconnect
    case killNode, reviveNode, addNode, removeNode, changeWeight, hangNode, unhangNode
    case drainNode, undrainNode
}

/// One row of the key table: the keys, where they apply, what they do, and the words shown in help.
public struct KeyBinding: Sendable {
    public var keys: [Key]
    /// Views where the binding applies; empty means everywhere.
    public var views: [ViewKind]
    public var action: Action
    /// Short label for the footer.
    public var label: String
    /// Sentence for the `?` help.
    public var help: String
    /// Whether the binding changes routes or connections (disabled by `--readonly`).
    public var mutates = false
    /// Only in demo mode (`mqtt-proxy demo`).
    public var demoOnly = false
    /// Only useful attached to several instances: listed in help, left out of the footer otherwise.
    public var fleetOnly = false
}

/// The console's key table: data, from which both dispatch and the help overlay are generated.
public enum KeyTable {
    public static let bindings: [KeyBinding] = [
        KeyBinding(keys: [.char("?")], views: [], action: .help, label: "help", help: "show this help"),
        // Demo mode, in Clients → Nodes (before the movement keys: there `k` kills instead of moving up).
        KeyBinding(keys: [.char("k")], views: [.mappings], action: .killNode, label: "kill",
                   help: "demo: kill the selected broker (its clients reconnect onto the next ring node)",
                   mutates: true, demoOnly: true),
        KeyBinding(keys: [.char("r")], views: [.mappings], action: .reviveNode, label: "revive",
                   help: "demo: revive the selected broker (its clients come back)", mutates: true, demoOnly: true),
        KeyBinding(keys: [.char("+")], views: [.mappings], action: .addNode, label: "+node",
                   help: "demo: start a broker and add it to the route (rebalance preview first)",
                   mutates: true, demoOnly: true),
        KeyBinding(keys: [.char("-")], views: [.mappings], action: .removeNode, label: "-node",
                   help: "demo: remove the selected node from its route (rebalance preview first)",
                   mutates: true, demoOnly: true),
        KeyBinding(keys: [.char("w")], views: [.mappings], action: .changeWeight, label: "weight",
                   help: "demo: change the selected node's weight (rebalance preview first)",
                   mutates: true, demoOnly: true),
        KeyBinding(keys: [.char("h")], views: [.mappings], action: .hangNode, label: "hang",
                   help: "demo: freeze the selected broker (it accepts and never answers; health checks notice)",
                   mutates: true, demoOnly: true),
        KeyBinding(keys: [.char("H")], views: [.mappings], action: .unhangNode, label: "unhang",
                   help: "demo: let a frozen broker answer again", mutates: true, demoOnly: true),
        KeyBinding(keys: [.char("D")], views: [.mappings], action: .drainNode, label: "drain",
                   help: "drain the selected node: new clients go elsewhere, existing ones move at a rate (form)",
                   mutates: true),
        KeyBinding(keys: [.char("U")], views: [.mappings], action: .undrainNode, label: "undrain",
                   help: "end the drain of the selected node", mutates: true),
        KeyBinding(keys: [.char("1")], views: [], action: .view(.connections), label: "conns",
                   help: "Connections view"),
        KeyBinding(keys: [.char("2")], views: [], action: .view(.mappings), label: "nodes",
                   help: "Clients → Nodes view"),
        KeyBinding(keys: [.char("3")], views: [], action: .view(.routes), label: "routes", help: "Routes view"),
        KeyBinding(keys: [.char("4")], views: [], action: .view(.log), label: "log", help: "Log view"),
        KeyBinding(keys: [.tab], views: [], action: .nextView, label: "next", help: "next view"),
        KeyBinding(keys: [.backTab], views: [], action: .previousView, label: "prev", help: "previous view"),
        KeyBinding(keys: [.up, .char("k"), .wheelUp], views: [], action: .up, label: "↑", help: "move up"),
        KeyBinding(keys: [.down, .char("j"), .wheelDown], views: [], action: .down, label: "↓", help: "move down"),
        KeyBinding(keys: [.pageUp, .char("b")], views: [], action: .pageUp, label: "pgup", help: "page up"),
        KeyBinding(keys: [.pageDown, .char(" ")], views: [], action: .pageDown, label: "pgdn", help: "page down"),
        KeyBinding(keys: [.home, .char("g")], views: [], action: .top, label: "top", help: "first row"),
        KeyBinding(keys: [.end, .char("G")], views: [], action: .bottom, label: "end", help: "last row"),
        KeyBinding(keys: [.char("/")], views: [], action: .filter, label: "filter",
                   help: "filter rows (substring, or a regex; a leading ! shows the rows that do not match); Esc clears"),
        KeyBinding(keys: [.char("!")], views: [], action: .invertFilter, label: "!filter",
                   help: "invert the filter (or start one that shows the rows not matching)"),
        KeyBinding(keys: [.char("s")], views: [.connections, .routes], action: .sort, label: "sort",
                   help: "sort by the next column"),
        KeyBinding(keys: [.char("S")], views: [.connections, .routes], action: .sortReverse, label: "rev",
                   help: "reverse the sort order"),
        KeyBinding(keys: [.enter], views: [.connections], action: .open, label: "detail",
                   help: "CONNECT details of the selected connection"),
        KeyBinding(keys: [.char("x")], views: [.connections], action: .disconnect, label: "kick",
                   help: "disconnect the selected client (asks first)", mutates: true),
        KeyBinding(keys: [.char("y")], views: [.connections], action: .copyClientID, label: "copy",
                   help: "copy the selected client id to the clipboard (OSC 52; tmux needs set-clipboard on)"),
        KeyBinding(keys: [.char("a")], views: [.routes, .mappings], action: .addRoute, label: "add",
                   help: "add a stream route (form)", mutates: true),
        KeyBinding(keys: [.char("e")], views: [.routes, .mappings], action: .editRoute, label: "edit",
                   help: "edit the selected route (form)", mutates: true),
        KeyBinding(keys: [.char("E")], views: [.routes, .mappings], action: .editRouteInEditor, label: "$EDITOR",
                   help: "edit the selected route as JSON in $EDITOR", mutates: true),
        KeyBinding(keys: [.char("d")], views: [.routes], action: .deleteRoute, label: "delete",
                   help: "delete the selected route (asks first; default No)", mutates: true),
        KeyBinding(keys: [.char("i")], views: [.connections, .mappings, .log], action: .instanceFilter, label: "instance",
                   help: "fleet: show one instance only, the next, then all",
                   fleetOnly: true),
        KeyBinding(keys: [.char("p")], views: [], action: .pause, label: "pause", help: "pause / resume updates"),
        KeyBinding(keys: [.char("R")], views: [], action: .toggleReadonly, label: "read-only",
                   help: "read-only on / off (stays on when the console was started with --readonly)"),
        KeyBinding(keys: [.char("W")], views: [], action: .dumpScreen, label: "dump",
                   help: "write the screen as plain text to mqtt-proxy-screen-<time>.txt in the working folder"),
        KeyBinding(keys: [.char(":")], views: [], action: .colon, label: ":q", help: ":q quits too"),
        KeyBinding(keys: [.char("q"), .interrupt], views: [], action: .quit, label: "quit",
                   help: "quit: stops the proxy and its admin API (asks first if connections are open); attached: only leaves"),
    ]

    /// The binding for `key` in `view`, if any (demo-only bindings only in demo mode).
    public static func binding(for key: Key, in view: ViewKind, demo: Bool = false) -> KeyBinding? {
        bindings.first {
            $0.keys.contains(key) && ($0.views.isEmpty || $0.views.contains(view)) && (demo || !$0.demoOnly)
        }
    }

    /// How a key is written in help and the footer.
    public static func name(_ key: Key) -> String {
        switch key {
        case .char(" "): return "Space"
        case .char(let c): return String(c)
        case .up: return "↑"
        case .down: return "↓"
        case .left: return "←"
        case .right: return "→"
        case .pageUp: return "PgUp"
        case .pageDown: return "PgDn"
        case .home: return "Home"
        case .end: return "End"
        case .enter: return "Enter"
        case .escape: return "Esc"
        case .tab: return "Tab"
        case .backTab: return "Shift-Tab"
        case .backspace: return "Bksp"
        case .delete: return "Del"
        case .resize: return "resize"
        case .interrupt: return "Ctrl-C"
        case .click: return "click"
        case .wheelUp: return "wheel↑"
        case .wheelDown: return "wheel↓"
        }
    }
}

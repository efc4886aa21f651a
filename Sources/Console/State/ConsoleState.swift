import ProxyControl
import ProxyModel

/// The four views, in key order.
public enum ViewKind: Int, Sendable, CaseIterable {
    case connections = 1
    case mappings = 2
    case routes = 3
    case log = 4

    public var title: String {
        switch self {
        case .connections: return "Connections"
        case .mappings: return "Clients→Nodes"
        case .routes: return "Routes"
        case .log: return "Log"
        }
    }
}

/// A yes/no question; the answer defaults to No.
public struct ConfirmDialog: Sendable, Equatable {
    public var title: String
    public var message: String
    public var yes = false
    public var action: ConsoleCommand
}

/// The live clients a pending route save would move, waiting for apply or cancel.
public struct RebalanceDialog: Sendable, Equatable {
    public var routeID: String
    public var body: JSONValue
    public var preview: RebalancePreview
    public var scroll = 0
}

/// A validated route body held back until the operator has seen which clients it would move.
public struct PendingSave: Sendable, Equatable {
    public var id: String
    public var body: JSONValue
}

/// A one-line question with typed input (demo mode: a node's new weight).
public struct WeightPrompt: Sendable, Equatable {
    public var routeID: String
    public var node: String
    public var text: String
    public var error: String?
}

/// The drain box (`D` on a node): how fast to move its clients and where to send MQTT 5 ones, with where new
/// clients of the node would go instead.
public struct DrainForm: Sendable, Equatable {
    public enum Field: Sendable, Equatable { case rate, reference }
    public var node: String
    /// Clients moved per second; empty keeps the existing clients.
    public var rate = ""
    /// Server Reference for MQTT 5 clients; empty sends none.
    public var reference = ""
    public var focus = Field.rate
    /// Where the node's clients would go; nil while it is being worked out.
    public var preview: RebalancePreview?
    public var error: String?

    public init(node: String) { self.node = node }
}

/// What sits on top of the current view.
public enum Overlay: Sendable, Equatable {
    case drain(DrainForm)
    case help
    case weight(WeightPrompt)
    case confirm(ConfirmDialog)
    case detail(connectionID: UInt64)
    case form(RouteForm)
    case rebalance(RebalanceDialog)
}

/// Everything the console remembers between frames.
public struct ConsoleState: Sendable, Equatable {
    public var view: ViewKind = .connections
    public var selection: [ViewKind: Int] = [:]
    public var top: [ViewKind: Int] = [:]
    public var filter: [ViewKind: String] = [:]
    /// Attached to several instances: only this instance's connections and events are shown (`i` cycles).
    public var instanceFilter: String?
    /// The filter being typed after `/`, or nil.
    public var filterDraft: String?
    public var sortColumn: [ViewKind: Int] = [:]
    public var sortReversed: [ViewKind: Bool] = [:]
    public var overlay: Overlay?
    /// The list rows of the last frame by screen row (`CellGrid.itemRows`): where a click lands.
    public var itemRows: [Int: Int] = [:]
    /// First line of the help box shown (the help scrolls when the terminal is too short for every key).
    public var helpScroll = 0
    public var status: StatusMessage?
    public var paused = false
    /// Changes are refused (`R` toggles it, unless `readonlyLocked`).
    public var readonly: Bool
    /// Started with `--readonly` (or attached with a viewer key): `R` cannot turn read-only off.
    public let readonlyLocked: Bool
    /// Demo mode: keys to kill, revive, add and remove demo brokers and to change weights are on.
    public let demo: Bool
    /// `:` was typed; a following `q` quits.
    public var colonPending = false
    /// The log view follows new events unless the operator scrolled up.
    public var followLog = true
    /// A route save waiting for its rebalance preview.
    public var pendingSave: PendingSave?
    /// Set while the console ends the open connections before quitting: how many there were.
    public var quitting: Int?

    public init(readonly: Bool, demo: Bool = false) {
        self.readonly = readonly
        readonlyLocked = readonly
        self.demo = demo
    }

    var selected: Int {
        get { selection[view] ?? 0 }
        set { selection[view] = max(0, newValue) }
    }
}

import Foundation
import ProxyControl
import ProxyModel
import RouteStore

/// A key press as the console understands it (the curses backend translates raw codes into these).
public enum Key: Sendable, Equatable, Hashable {
    case char(Character)
    case up, down, left, right, pageUp, pageDown, home, end
    case enter, escape, tab, backTab, backspace, delete
    /// The terminal changed size.
    case resize
    /// Ctrl-C typed while the terminal is in raw mode.
    case interrupt
    /// A mouse click on a cell (0-based).
    case click(row: Int, column: Int)
    /// The mouse wheel.
    case wheelUp, wheelDown
}

/// Something the console asks its host to do; the pure state machine never performs effects itself.
public enum ConsoleCommand: Sendable, Equatable {
    /// Stop the console and, with it, the engine and the admin API.
    case quit
    /// Store (create or replace) a stream route; the reply comes back through `ConsoleController.report`.
    case saveRoute(id: String, body: JSONValue)
    /// Delete a stream route.
    case deleteRoute(id: String)
    /// Open the route as JSON in `$EDITOR`; the host calls `ConsoleController.editorReturned` afterwards.
    case editRouteInEditor(id: String?, json: JSONValue)
    /// Close one relayed connection.
    case disconnect(connectionID: UInt64)
    /// Compute which live clients would move if `body` replaced route `id` (answered through
    /// `ConsoleController.previewReady`).
    case previewRebalance(id: String, body: JSONValue)
    /// Demo mode: something the demo's brokers must do.
    case demo(DemoRequest)
    /// Work out where the clients of `node` would go if it were drained (answered through `drainPreviewReady`).
    case previewDrain(node: String)
    /// Drain `node`: new clients go elsewhere; with a rate, its clients are moved off.
    case drain(node: String, evictPerSecond: Double?, serverReference: String?)
    /// End the drain of `node`.
    case undrain(node: String)
    /// End every open connection as a shutdown does, showing progress, then quit.
    case endConnectionsAndQuit
    /// Put `text` on the clipboard of the terminal (OSC 52).
    case copy(String)
    /// Write the current screen as plain text to a file in the working folder.
    case dumpScreen
}

/// What demo mode asks of the host's demo brokers.
public enum DemoRequest: Sendable, Equatable {
    /// Kill the broker at `ip:port`: its port refuses connections and its clients see a close.
    case kill(node: String)
    /// Bring a killed broker back.
    case revive(node: String)
    /// Start one more broker; the host then proposes adding it to route `routeID`.
    case addBroker(routeID: String)
    /// Freeze the broker at `ip:port`: it keeps accepting connections and answers nothing (health checks notice).
    case hang(node: String)
    /// Let a frozen broker answer again.
    case unhang(node: String)
}

/// Throughput of one route.
public struct ByteRate: Sendable, Equatable {
    public var inPerSecond: Double
    public var outPerSecond: Double

    public init(inPerSecond: Double, outPerSecond: Double) {
        self.inPerSecond = inPerSecond
        self.outPerSecond = outPerSecond
    }
}

/// Everything a frame shows: the engine's live picture and the store's routes, at one moment.
public struct ConsoleData: Sendable {
    public var engine: EngineSnapshot
    public var resources: ProxyResources
    public var storeRevision: Int
    /// Unix time the frame is drawn for.
    public var now: Double
    /// Admin API address, for the header.
    public var adminAddress: String?
    /// Whether the store's source (etcd) answers, for the header.
    public var storeStatus: StoreStatus?
    /// Connections per second per route over the last minute, oldest first (for sparklines).
    public var connectRates: [String: [Double]]
    /// Bytes per second each way per route, over the last second.
    public var byteRates: [String: ByteRate]

    public init(engine: EngineSnapshot, resources: ProxyResources, storeRevision: Int, now: Double,
                adminAddress: String? = nil, connectRates: [String: [Double]] = [:],
                byteRates: [String: ByteRate] = [:])
    {
        self.byteRates = byteRates
        self.engine = engine
        self.resources = resources
        self.storeRevision = storeRevision
        self.now = now
        self.adminAddress = adminAddress
        self.connectRates = connectRates
    }
}

/// What demo mode needs from the demo: broker kills, revives and new brokers. Answers are status lines.
public protocol DemoControl: Sendable {
    func kill(node: String) async -> String
    func revive(node: String) async -> String
    /// Starts a broker and returns its `ip:port`.
    func addBroker() async throws -> String
    func hang(node: String) async -> String
    func unhang(node: String) async -> String
}

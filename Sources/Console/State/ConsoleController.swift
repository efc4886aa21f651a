import Foundation
import ProxyControl
import ProxyModel

/// The console's brain, free of terminal I/O: takes keys and data, keeps the state, draws frames into a
/// `CellGrid`, and returns commands for the host to carry out. Owned by the UI thread.
public final class ConsoleController {
    public private(set) var state: ConsoleState

    public init(readonly: Bool = false, demo: Bool = false) {
        state = ConsoleState(readonly: readonly, demo: demo)
    }

    /// Applies one key; returns the effects the host must perform.
    public func handle(_ key: Key, data: ConsoleData) -> [ConsoleCommand] {
        KeyHandling.reduce(&state, key, data: data)
    }

    /// Draws the current view (and any overlay) for a terminal of `width`×`height`.
    public func render(data: ConsoleData, width: Int, height: Int) -> CellGrid {
        var grid = CellGrid(width: width, height: height)
        if state.overlay == .help {
            // Kept within the text at this size, so the first key back up moves at once.
            state.helpScroll = HelpBox.layout(state, width: width, height: height).scroll
        }
        Screen.draw(state: state, data: data, into: &grid)
        state.itemRows = state.overlay == nil ? grid.itemRows : [:]
        return grid
    }

    /// The outcome of a command, shown in the status line (e.g. "route 7 saved", or a validation error).
    public func report(_ message: String, isError: Bool) {
        state.status = StatusMessage(text: message, isError: isError)
    }

    /// The edited text came back from `$EDITOR` (nil when the editor failed or the file was unchanged);
    /// returns the commands to carry out (a rebalance preview when a chash upstream changed).
    @discardableResult
    public func editorReturned(id: String?, text: String?, data: ConsoleData) -> [ConsoleCommand] {
        KeyHandling.editorReturned(&state, id: id, text: text, data: data)
    }

    /// The rebalance preview for a pending route save is ready.
    public func previewReady(_ preview: RebalancePreview) {
        KeyHandling.previewReady(&state, preview)
    }

    /// A proposed change of route `id` (demo mode: a node was added): shows which clients would move before
    /// anything is saved. Returns the commands to carry out.
    public func propose(routeID: String, body: JSONValue) -> [ConsoleCommand] {
        state.pendingSave = PendingSave(id: routeID, body: body)
        state.status = StatusMessage(text: "working out which clients would move…", isError: false)
        return [.previewRebalance(id: routeID, body: body)]
    }

    /// Where a node's clients would go if drained: shown in the drain box.
    public func drainPreviewReady(node: String, _ preview: RebalancePreview) {
        KeyHandling.drainPreviewReady(&state, node: node, preview)
    }

    /// The console is ending `open` connections before it quits (the status line counts them down).
    public func beginQuitting(open: Int) {
        state.quitting = open
        state.paused = false
    }

    /// Whether updates are paused (`p`): the host then keeps showing the last data.
    public var isPaused: Bool { state.paused }
}

/// A one-line message at the bottom of the screen.
public struct StatusMessage: Sendable, Equatable {
    public var text: String
    public var isError: Bool
}

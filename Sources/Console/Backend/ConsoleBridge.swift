import Foundation
import NIOConcurrencyHelpers
import ProxyControl
import ProxyModel
import RouteStore

/// What the async side hands to the UI thread: outcomes of store writes and rebalance previews.
enum ConsoleMessage: Sendable {
    case report(String, isError: Bool)
    case preview(RebalancePreview)
    /// Demo mode: a route change to preview (a node was added).
    case propose(routeID: String, body: JSONValue)
    /// Where a node's clients would go if it were drained.
    case drainPreview(node: String, RebalancePreview)
    /// The connections are ended: the console may go.
    case quit
    /// The store's source went up or down (the header shows it).
    case storeStatus(StoreStatus)
}

/// The only state shared between the console's UI thread and the async world, all behind one lock: the
/// stop request, the latest store snapshot, results waiting for the UI thread, and the running editor.
final class ConsoleBridge: Sendable {
    private struct State {
        var stopRequested = false
        var store: StoreSnapshot
        var inbox: [ConsoleMessage] = []
        var editorPID: pid_t?
        var storeStatus: StoreStatus?
    }

    private let state: NIOLockedValueBox<State>

    init(store: StoreSnapshot) {
        state = NIOLockedValueBox(State(store: store))
    }

    /// Asks the UI loop to end; a running `$EDITOR` is sent SIGTERM so the loop can get there.
    func requestStop() {
        let editor = state.withLockedValue { s -> pid_t? in
            s.stopRequested = true
            return s.editorPID
        }
        if let editor { kill(editor, SIGTERM) }
    }

    var stopRequested: Bool { state.withLockedValue { $0.stopRequested } }

    /// Keeps the newest store snapshot (store events can arrive out of order across tasks).
    func storeChanged(_ snapshot: StoreSnapshot) {
        state.withLockedValue { s in
            if snapshot.revision >= s.store.revision { s.store = snapshot }
        }
    }

    var store: StoreSnapshot { state.withLockedValue { $0.store } }

    var storeRevision: Int { state.withLockedValue { $0.store.revision } }

    /// The store's source went up or down.
    func storeStatusChanged(_ status: StoreStatus) {
        state.withLockedValue { $0.storeStatus = status }
        post(.storeStatus(status))
    }

    var storeStatus: StoreStatus? { state.withLockedValue { $0.storeStatus } }

    /// Queues a result for the UI thread.
    func post(_ message: ConsoleMessage) {
        state.withLockedValue { $0.inbox.append(message) }
    }

    /// Takes every queued result, oldest first.
    func drain() -> [ConsoleMessage] {
        state.withLockedValue { s in
            defer { s.inbox.removeAll() }
            return s.inbox
        }
    }

    /// Records the editor the UI thread is waiting for (nil when it returned).
    func setEditor(_ pid: pid_t?) -> Bool {
        state.withLockedValue { s in
            s.editorPID = pid
            return !s.stopRequested
        }
    }
}

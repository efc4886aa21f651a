import Foundation
import ProxyControl
import ProxyModel
import RouteStore
import Synchronization

/// One running instance followed through its admin API: a copy of its picture (counters, health, connections,
/// recent events), kept current from `/v1/stream` without reading every list on every change.
///
/// On each `change` message of the stream it reads `/v1/summary` (a few KB), the details of the connections the
/// message says were opened (`/v1/connections?ids=…`, as far as `detailBudget` bytes a second allow; the rest wait
/// their turn, and those closed meanwhile are never read), and drops those closed. The whole connection list is read
/// when the stream (re)starts and then as often as `resyncBudget` bytes a second allow (fresh byte counters, and
/// whatever was too much to follow one by one), so following a busy instance costs it little.
public final class RemoteInstance: Sendable {
    /// The address it was attached by, as given.
    public let url: String
    public let client: AdminClient
    /// Bytes a second that whole-list reads may use on average.
    let resyncBudget: Double
    /// Bytes a second that reading newly opened connections may use on average (up to 4 s of it at once).
    let detailBudget: Double
    /// Events kept, newest last.
    static let eventCapacity = 1000
    /// Events per stream message: the Log view shows a screen of them, and a busy instance records thousands.
    static let eventsPerMessage = 40
    /// Opened connections waiting to be read at most; past that the whole list is read again instead.
    static let maxWaiting = 20_000

    struct State {
        var summary: EngineSnapshot?
        var instanceID: String?
        var hostname: String?
        var version: String?
        var role: String?
        var storeRevision: Int?
        var connections: [UInt64: ConnectionInfo] = [:]
        var events: [EngineEvent] = []
        var nextEvent = 0
        var reachable = false
        /// The copy has been read whole once (summary, events, every connection).
        var synced = false
        /// Times it was lost (or could not be reached at all).
        var losses = 0
        var lastSeen: Double?
        var lastError: String? = "connecting"
        var changes = 0
        var nextResyncAllowed = 0.0
        /// Opened connections not read yet, oldest first.
        var waiting: [UInt64] = []
        /// Bytes the detail reads may still use now, and when that was last refilled.
        var detailTokens = 0.0
        var refilledAt = 0.0
    }

    let state = Mutex(State())
    private let onChange: @Sendable () -> Void

    /// `onChange` is called (from any task) whenever the copy changed.
    public init(url: String, key: String?, resyncBudget: Double = 20_000, detailBudget: Double = 30_000,
                onChange: @escaping @Sendable () -> Void = {})
    {
        self.url = url
        client = AdminClient(baseURL: url, key: key)
        self.resyncBudget = resyncBudget
        self.detailBudget = detailBudget
        self.onChange = onChange
    }

    /// Its `instance_id` once it answered, else the address.
    public var name: String { state.withLock { $0.instanceID } ?? url }

    /// Whether the copy was read whole at least once, or the instance was lost trying: what `--once` waits for.
    public var isSettled: Bool { state.withLock { $0.synced || $0.losses > 0 } }

    /// Grows whenever the copy changes.
    public var changeCount: Int { state.withLock { $0.changes } }

    /// The instance's picture as last received (connections and events included); nil before the first answer.
    public func snapshot() -> EngineSnapshot? {
        state.withLock { s in
            guard var snap = s.summary else { return nil }
            snap.connections = s.connections.values.sorted { $0.id < $1.id }
            snap.events = s.events
            return snap
        }
    }

    /// Whether it answers, who it is, where its routes come from, and what following it cost.
    public func status() -> InstanceStatus {
        let received = client.bytesReceived
        return state.withLock { s in
            InstanceStatus(name: s.instanceID ?? url, url: client.baseURL, reachable: s.reachable, lastSeen: s.lastSeen,
                           lastError: s.lastError, role: s.role, store: s.summary?.store, storeRevision: s.storeRevision,
                           hostname: s.hostname, version: s.version, routes: s.summary?.routes ?? [],
                           nodes: s.summary?.nodes ?? [], openConnections: s.summary?.openConnections ?? 0,
                           bytesReceived: received)
        }
    }

    /// Follows the instance until the task is cancelled: the stream, and after each loss a new attempt (1 s, then
    /// up to 5 s apart). Its connections stay in the copy while it is lost, shown as such.
    public func run() async {
        var backoff = 1.0
        while !Task.isCancelled {
            let seen = state.withLock { $0.lastSeen }
            do throws(AdminClientError) {
                try await follow()
            } catch {
                // A stream that broke was alive until now; a silent one only until it last said something.
                if case .silent = error {
                } else {
                    state.withLock { if $0.reachable { $0.lastSeen = Date().timeIntervalSince1970 } }
                }
                lost(error.description)
            }
            guard !Task.isCancelled else { break }
            // It answered in this round: the next attempt comes soon again.
            backoff = state.withLock { $0.lastSeen } != seen ? 1 : min(5, backoff * 2)
            try? await Task.sleep(nanoseconds: UInt64(backoff * 1e9))
        }
    }

    /// One life of the stream: `hello`, a full read, then each change.
    private func follow() async throws(AdminClientError) {
        let since = state.withLock { $0.nextEvent }
        let path = "/v1/stream?connections=ids&events=\(Self.eventsPerMessage)" + (since > 0 ? "&since=\(since)" : "")
        try await client.stream(path, silence: 40) { [self] message in
            do throws(AdminClientError) {
                switch message.event {
                case "hello":
                    try await readSummary()
                    if since == 0 { try await readEvents() }
                    try await resyncIfDue(force: true)
                    state.withLock { $0.synced = true }
                    changed()
                case "change":
                    try await apply(message.data)
                case "comment":
                    // A keep-alive: the instance is there, nothing changed.
                    state.withLock { $0.lastSeen = Date().timeIntervalSince1970 }
                default:
                    break
                }
                return true
            } catch {
                lost(error.description)
                return false
            }
        }
    }

    private func lost(_ error: String) {
        // The bar names the instance already: its address need not lead the reason.
        let reason = error.hasPrefix(client.baseURL) ? String(error.dropFirst(client.baseURL.count))
            .trimmingCharacters(in: CharacterSet(charactersIn: ": ")) : error
        let differs = state.withLock { s -> Bool in
            defer {
                s.reachable = false
                s.lastError = reason
                s.losses += 1
            }
            return s.reachable || s.lastError != reason
        }
        if differs { changed() }
    }

    func changed() {
        state.withLock { $0.changes += 1 }
        onChange()
    }
}

import Atomics
import DequeModule
import MQTTCodec
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import ProxyControl

/// A relayed connection's fixed facts plus its live byte counters.
final class LiveConnection: Sendable {
    let info: ConnectionInfo
    let counters = ConnectionCounters()
    let route: RouteCounters
    let node: NodeCounters
    let metrics: EngineMetrics.Pair
    /// The client's channel, so an operator can close this one connection.
    let channel: Channel?
    /// Set when an operator closed the connection (the close reason then says so).
    let closedByOperator = ManagedAtomic<Bool>(false)
    /// Set once the relay was asked to end (eviction or shutdown), so it is asked only once.
    let ending = ManagedAtomic<Bool>(false)
    /// The broker's CONNACK code once it passed; -1 before.
    let connack = ManagedAtomic<Int>(-1)

    /// Asks the relay to end between two packets; false when it is already ending or has no channel.
    @discardableResult
    func end(_ ending: RelayEnding) -> Bool {
        guard let channel, self.ending.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged
        else { return false }
        channel.triggerUserOutboundEvent(ending, promise: nil)
        return true
    }

    init(info: ConnectionInfo, route: RouteCounters, node: NodeCounters, metrics: EngineMetrics.Pair,
         channel: Channel? = nil)
    {
        self.info = info
        self.route = route
        self.node = node
        self.metrics = metrics
        self.channel = channel
    }

    /// Records bytes from the client towards the broker.
    func addIn(_ n: Int) {
        counters.bytesIn.wrappingIncrement(by: n, ordering: .relaxed)
        route.bytesIn.wrappingIncrement(by: n, ordering: .relaxed)
        node.bytesIn.wrappingIncrement(by: n, ordering: .relaxed)
        metrics.bytesIn.increment(by: n)
    }

    /// Records bytes from the broker towards the client.
    func addOut(_ n: Int) {
        counters.bytesOut.wrappingIncrement(by: n, ordering: .relaxed)
        route.bytesOut.wrappingIncrement(by: n, ordering: .relaxed)
        node.bytesOut.wrappingIncrement(by: n, ordering: .relaxed)
        metrics.bytesOut.increment(by: n)
    }
}

/// The live state of the engine: relayed connections, counters and recent events, published as snapshots.
public final class ConnectionRegistry: Sendable {
    private struct State {
        var connections: [UInt64: LiveConnection] = [:]
        var routes: [String: RouteCounters] = [:]
        var nodes: [String: NodeCounters] = [:]
        var events = Deque<StoredEvent>()
        var nextSequence = 1
        var listeners: [String] = []
        var cached: EngineSnapshot?
    }

    private let state = NIOLockedValueBox(State())
    private let version = ManagedAtomic<Int>(1)
    private let nextID = ManagedAtomic<UInt64>(1)
    private let pendingCount = ManagedAtomic<Int>(0)
    private let accepted = ManagedAtomic<Int>(0)
    private let rejectedTotal = ManagedAtomic<Int>(0)
    private let rejectedByReason = CaseCounters<RejectReason>()
    private let tlsHandshakes = ManagedAtomic<Int>(0)
    private let prereadBytes = ManagedAtomic<Int>(0)
    private let eventCapacity: Int
    private let waiters = VersionWaiters()
    /// Unix time at which the engine started.
    public let startedAt: Double
    /// The swift-metrics instruments fed alongside the counters.
    public let metrics: EngineMetrics

    public init(eventCapacity: Int = 1000, metrics: EngineMetrics = EngineMetrics()) {
        self.eventCapacity = eventCapacity
        self.metrics = metrics
        self.startedAt = Date().timeIntervalSince1970
    }

    /// The current version; bumps on every connection change or event.
    public var currentVersion: Int { version.load(ordering: .sequentiallyConsistent) }

    func newConnectionID() -> UInt64 { nextID.loadThenWrappingIncrement(ordering: .relaxed) }

    func setListeners(_ names: [String]) {
        state.withLockedValue { $0.listeners = names }
        bump()
    }

    func routeCounters(_ routeID: String) -> RouteCounters {
        state.withLockedValue { s in
            if let c = s.routes[routeID] { return c }
            let c = RouteCounters()
            s.routes[routeID] = c
            return c
        }
    }

    func nodeCounters(_ node: String) -> NodeCounters {
        state.withLockedValue { s in
            if let c = s.nodes[node] { return c }
            let c = NodeCounters()
            s.nodes[node] = c
            return c
        }
    }

    /// A connection was accepted and is being examined.
    func accepting() {
        accepted.wrappingIncrement(ordering: .relaxed)
        pendingCount.wrappingIncrement(ordering: .relaxed)
    }

    /// Bytes arrived on a connection still waiting for its whole CONNECT.
    func prereadRead(_ count: Int) { prereadBytes.wrappingIncrement(by: count, ordering: .relaxed) }

    /// A TLS handshake on a listener succeeded.
    func tlsHandshakeDone() { tlsHandshakes.wrappingIncrement(ordering: .relaxed) }

    /// An accepted connection left the pending state (relayed or rejected).
    func pendingDone() { pendingCount.wrappingDecrement(ordering: .relaxed) }

    /// Counts a rejection and records why.
    func reject(_ reason: RejectReason, routeID: String?, remote: String, clientID: String?, message: String) {
        rejectedTotal.wrappingIncrement(ordering: .relaxed)
        rejectedByReason.count(reason)
        if let routeID { routeCounters(routeID).rejected.count(reason) }
        metrics.rejected(route: routeID, reason: reason)
        record(.rejected, routeID: routeID, clientID: clientID, remote: remote, node: nil,
               message: "\(reason.rawValue): \(message)")
    }

    /// A relay started.
    func register(_ connection: LiveConnection) {
        connection.route.active.wrappingIncrement(ordering: .relaxed)
        connection.route.total.wrappingIncrement(ordering: .relaxed)
        connection.node.active.wrappingIncrement(ordering: .relaxed)
        connection.node.total.wrappingIncrement(ordering: .relaxed)
        connection.metrics.total.increment()
        connection.metrics.active.increment()
        state.withLockedValue { $0.connections[connection.info.id] = connection }
        let info = connection.info
        record(.connected, routeID: info.routeID, clientID: info.clientID, remote: info.remoteAddress,
               node: info.node, text: .proxied, connectionID: info.id)
    }

    /// A relay ended, for `cause`.
    func unregister(_ connection: LiveConnection, cause: DisconnectCause, detail: String?) {
        let removed = state.withLockedValue { $0.connections.removeValue(forKey: connection.info.id) != nil }
        guard removed else { return }
        connection.route.active.wrappingDecrement(ordering: .relaxed)
        connection.node.active.wrappingDecrement(ordering: .relaxed)
        connection.metrics.active.decrement()
        connection.route.disconnects.count(cause)
        connection.node.disconnects.count(cause)
        connection.metrics.disconnects[cause]?.increment()
        let info = connection.info
        let text = StoredEvent.Text.ended(cause: cause, detail: detail,
                                          bytesIn: connection.counters.bytesIn.load(ordering: .relaxed),
                                          bytesOut: connection.counters.bytesOut.load(ordering: .relaxed))
        record(.disconnected, routeID: info.routeID, clientID: info.clientID, remote: info.remoteAddress,
               node: info.node, text: text, connectionID: info.id)
    }

    /// Adds an event to the bounded ring of recent events.
    func record(_ kind: EngineEvent.Kind, routeID: String? = nil, clientID: String? = nil,
                       remote: String? = nil, node: String? = nil, message: String)
    {
        record(kind, routeID: routeID, clientID: clientID, remote: remote, node: node, text: .plain(message))
    }

    private func record(_ kind: EngineEvent.Kind, routeID: String?, clientID: String?, remote: String?,
                        node: String?, text: StoredEvent.Text, connectionID: UInt64? = nil)
    {
        let now = Date().timeIntervalSince1970
        state.withLockedValue { s in
            s.events.append(StoredEvent(sequence: s.nextSequence, time: now, kind: kind, routeID: routeID,
                                        clientID: clientID, remote: remote, node: node, text: text,
                                        connectionID: connectionID))
            s.nextSequence += 1
            while s.events.count > eventCapacity { s.events.removeFirst() }
        }
        bump()
    }

    /// The relays open to `node`, oldest first.
    func liveConnections(onNode node: String) -> [LiveConnection] {
        state.withLockedValue { s in s.connections.values.filter { $0.info.node == node } }
            .sorted { $0.info.id < $1.info.id }
    }

    /// Every open relay.
    func allLiveConnections() -> [LiveConnection] {
        state.withLockedValue { Array($0.connections.values) }
    }

    /// Relays open per node.
    func activeByNode() -> [String: Int] {
        state.withLockedValue { s in
            s.nodes.mapValues { $0.active.load(ordering: .relaxed) }
        }
    }

    /// Live connection objects (for disconnecting one by id later).
    func liveConnection(_ id: UInt64) -> LiveConnection? {
        state.withLockedValue { $0.connections[id] }
    }

    private func bump() {
        version.wrappingIncrement(ordering: .sequentiallyConsistent)
        waiters.wake()
    }

    /// Waits until the version is no longer `version` (or `timeout` seconds passed); returns the version then.
    func nextVersion(after version: Int, timeout: Double) async -> Int {
        await waiters.wait(timeout: timeout) { [self] in currentVersion != version }
        return currentVersion
    }

    /// The current picture; rebuilt only when the version changed since the last call (byte counters are
    /// re-read when `fresh` is true).
    public func snapshot(fresh: Bool = true) -> EngineSnapshot {
        let v = version.load(ordering: .acquiring)
        if !fresh, let cached = state.withLockedValue({ $0.cached }), cached.version == v { return cached }
        let (conns, events) = state.withLockedValue { s in (Array(s.connections.values), Array(s.events)) }
        let snap = picture(version: v, connections: conns.map(Self.info).sorted { $0.id < $1.id }, relayed: conns.count,
                           events: events)
        state.withLockedValue { $0.cached = snap }
        return snap
    }

    /// The picture without the connection list and with only the events after `eventsAfter` (followers read it
    /// twice a second: no connection is touched, no older event rendered).
    public func summary(eventsAfter: Int) -> EngineSnapshot {
        let v = version.load(ordering: .acquiring)
        let (count, events, last) = state.withLockedValue { s in
            (s.connections.count, Array(s.events.reversed().prefix { $0.sequence > eventsAfter }.reversed()),
             s.events.last?.sequence ?? 0)
        }
        var snap = picture(version: v, connections: [], relayed: count, events: events)
        snap.lastEventSequence = last
        return snap
    }

    /// The ids of the open relays.
    public func connectionIDs() -> [UInt64] { state.withLockedValue { Array($0.connections.keys) } }

    /// The open relays with these ids, by id.
    public func connections(ids: Set<UInt64>) -> [ConnectionInfo] {
        state.withLockedValue { s in ids.compactMap { s.connections[$0] } }.map(Self.info).sorted { $0.id < $1.id }
    }

    /// A connection as operators see it, with its counters read now.
    private static func info(_ c: LiveConnection) -> ConnectionInfo {
        var info = c.info
        info.bytesIn = c.counters.bytesIn.load(ordering: .relaxed)
        info.bytesOut = c.counters.bytesOut.load(ordering: .relaxed)
        let code = c.connack.load(ordering: .relaxed)
        info.brokerConnack = code < 0 ? nil : code
        if code > 0 { info.brokerRefusal = ConnackText.describe(UInt8(code), level: UInt8(info.protocolLevel ?? 4)) }
        return info
    }

    /// Counters, listeners and the given connections and events, as one snapshot.
    private func picture(version v: Int, connections: [ConnectionInfo], relayed: Int, events: [StoredEvent])
        -> EngineSnapshot
    {
        let (routes, nodes, listeners) = state.withLockedValue { s in (s.routes, s.nodes, s.listeners) }
        let routeStats = routes.map { id, c in
            RouteStats(routeID: id, active: c.active.load(ordering: .relaxed), total: c.total.load(ordering: .relaxed),
                       rejected: c.rejected.snapshot(), bytesIn: c.bytesIn.load(ordering: .relaxed),
                       bytesOut: c.bytesOut.load(ordering: .relaxed),
                       connectFailures: c.connectFailures.load(ordering: .relaxed), disconnects: c.disconnects.snapshot())
        }.sorted { $0.routeID < $1.routeID }
        let nodeStats = nodes.map { id, c in
            NodeStats(node: id, active: c.active.load(ordering: .relaxed), total: c.total.load(ordering: .relaxed),
                      bytesIn: c.bytesIn.load(ordering: .relaxed), bytesOut: c.bytesOut.load(ordering: .relaxed),
                      connectFailures: c.connectFailures.load(ordering: .relaxed),
                      failing: c.lastAttemptFailed.load(ordering: .relaxed), disconnects: c.disconnects.snapshot(),
                      connacks: c.connacks)
        }.sorted { $0.node < $1.node }
        var snap = EngineSnapshot(
            version: v, takenAt: Date().timeIntervalSince1970, startedAt: startedAt, listeners: listeners,
            connections: connections, routes: routeStats, nodes: nodeStats, events: events.map(\.event),
            pending: pendingCount.load(ordering: .relaxed), totalAccepted: accepted.load(ordering: .relaxed),
            totalRejected: rejectedTotal.load(ordering: .relaxed),
            rejectedByReason: rejectedByReason.snapshot(),
            tlsHandshakes: tlsHandshakes.load(ordering: .relaxed), prereadBytes: prereadBytes.load(ordering: .relaxed))
        snap.relayed = relayed
        return snap
    }
}

/// An event as the ring keeps it. The texts of the two per-connection events are rendered when a snapshot is
/// taken, not when they happen: on a busy proxy most of them leave the ring unread.
struct StoredEvent: Sendable {
    enum Text: Sendable {
        case plain(String)
        /// "proxied to <node>"
        case proxied
        /// "<cause>[: <detail>] (<in> B in, <out> B out)"
        case ended(cause: DisconnectCause, detail: String?, bytesIn: Int, bytesOut: Int)
    }

    var sequence: Int
    var time: Double
    var kind: EngineEvent.Kind
    var routeID: String?
    var clientID: String?
    var remote: String?
    var node: String?
    var text: Text
    var connectionID: UInt64?

    var event: EngineEvent {
        let message = switch text {
        case .plain(let message): message
        case .proxied: "proxied to \(node ?? "?")"
        case .ended(let cause, let detail, let bytesIn, let bytesOut):
            cause.rawValue + (detail.map { ": \($0)" } ?? "") + " (\(bytesIn) B in, \(bytesOut) B out)"
        }
        return EngineEvent(sequence: sequence, time: time, kind: kind, routeID: routeID, clientID: clientID,
                           remote: remote, node: node, message: message, connectionID: connectionID)
    }
}

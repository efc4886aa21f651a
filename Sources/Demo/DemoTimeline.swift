import Foundation
import NIOConcurrencyHelpers
import ProxyControl

/// Which node each client of the demo route is on: `client id` (or `<empty> address`) → `ip:port`.
public typealias Placement = [String: String]

extension Placement {
    /// The demo route's clients in an engine snapshot.
    public static func of(_ snapshot: EngineSnapshot, routeID: String) -> Placement {
        var out: Placement = [:]
        for c in snapshot.connections where c.routeID == routeID {
            out[c.clientID ?? "<empty> \(c.remoteAddress)"] = c.node
        }
        return out
    }
}

/// One change made during the demo and what it did to placements.
public struct DemoChange: Sendable, Equatable {
    /// Seconds since the demo started.
    public var time: Double
    public var description: String
    /// The node the change was about (killed, revived, added, removed, re-weighted), if one.
    public var node: String?
    /// Clients present before and after whose node changed.
    public var moved: Int
    /// Of those, how many were on `node` before the change.
    public var movedFromNode: Int
    /// Of those, how many landed on `node` after the change.
    public var movedToNode: Int
    /// Clients on `node` just before the change.
    public var onNodeBefore: Int
    /// The clients that moved (keys as in `Placement`).
    public var movedClients: Set<String>

    /// Compares placements before and after a change.
    public static func compare(time: Double, description: String, node: String?, before: Placement,
                               after: Placement) -> DemoChange
    {
        var moved: Set<String> = []
        for (key, was) in before {
            if let now = after[key], now != was { moved.insert(key) }
        }
        return DemoChange(
            time: time, description: description, node: node, moved: moved.count,
            movedFromNode: moved.filter { before[$0] == node }.count,
            movedToNode: moved.filter { after[$0] == node }.count,
            onNodeBefore: before.values.filter { $0 == node }.count, movedClients: moved)
    }
}

/// The changes of one demo run, in order.
public final class DemoTimeline: Sendable {
    private let changes = NIOLockedValueBox([DemoChange]())
    public let startedAt: Date

    public init(startedAt: Date = Date()) { self.startedAt = startedAt }

    public func append(_ change: DemoChange) { changes.withLockedValue { $0.append(change) } }

    public var all: [DemoChange] { changes.withLockedValue { $0 } }

    public var elapsed: Double { Date().timeIntervalSince(startedAt) }
}

/// The end-of-run table: per node its weight, expected and observed share, then every change.
public struct DemoReport: Sendable {
    public struct NodeLine: Sendable, Equatable {
        public var node: String
        public var name: String
        public var weight: Int
        public var expectedShare: Double
        public var observedShare: Double
        public var clients: Int
        public var alive: Bool
    }

    public var nodes: [NodeLine]
    public var changes: [DemoChange]
    public var totalClients: Int

    /// Builds the report from the route's nodes (address, broker name, weight, alive) and a placement.
    public init(nodes: [(address: String, name: String, weight: Int, alive: Bool)], placement: Placement,
                changes: [DemoChange])
    {
        let weightSum = nodes.filter(\.alive).map(\.weight).reduce(0, +)
        let total = placement.count
        self.nodes = nodes.map { n in
            let clients = placement.values.filter { $0 == n.address }.count
            return NodeLine(node: n.address, name: n.name, weight: n.weight,
                            expectedShare: n.alive && weightSum > 0 ? Double(n.weight) / Double(weightSum) : 0,
                            observedShare: total > 0 ? Double(clients) / Double(total) : 0,
                            clients: clients, alive: n.alive)
        }
        self.changes = changes
        totalClients = total
    }

    /// The table as text.
    public var text: String {
        var lines = ["node                   broker     weight  expected  observed  clients"]
        for n in nodes {
            lines.append(pad(n.node, 22) + " " + pad(n.name, 10) + " " + pad("\(n.weight)", 6, right: true)
                         + "  " + pad(percent(n.expectedShare), 8, right: true)
                         + "  " + pad(percent(n.observedShare), 8, right: true)
                         + "  " + pad("\(n.clients)", 7, right: true) + (n.alive ? "" : "  (killed)"))
        }
        lines.append("total clients placed: \(totalClients)")
        if changes.isEmpty {
            lines.append("no changes")
        } else {
            lines.append("changes:")
            for c in changes {
                var what = "moved \(c.moved) client(s)"
                if let node = c.node {
                    what += "; \(c.movedFromNode) of the \(c.onNodeBefore) on \(node) left it, \(c.movedToNode) moved onto it"
                    let others = c.moved - c.movedFromNode - c.movedToNode
                    what += others > 0 ? ", \(others) between other nodes" : ", none between other nodes"
                }
                lines.append("  t=" + pad(String(format: "%.1fs", c.time), 7) + " " + pad(c.description, 34) + " " + what)
            }
        }
        return lines.joined(separator: "\n")
    }

    private func percent(_ v: Double) -> String { String(format: "%.1f%%", v * 100) }

    private func pad(_ s: String, _ width: Int, right: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(0, width - s.count))
        return right ? fill + s : s + fill
    }
}

import Foundation
import ProxyControl

/// What the views add when the console is attached to several instances: which instance a row comes from, which
/// instances are lost, the per-instance split of a route or node, and the clients two instances place differently.
enum FleetRows {
    /// Attached to more than one instance (the instance column, splits and warnings show).
    static func isFleet(_ data: ConsoleData) -> Bool { data.engine.instances.count > 1 }

    /// Instances that do not answer now: their rows are greyed, their numbers are the last ones seen.
    static func lost(_ data: ConsoleData) -> Set<String> {
        Set(data.engine.instances.filter { !$0.reachable }.map(\.name))
    }

    /// Whether a row of `instance` passes the instance filter (`i`).
    static func passes(_ instance: String?, _ state: ConsoleState) -> Bool {
        state.instanceFilter == nil || instance == state.instanceFilter
    }

    /// One client id that instances place on different nodes.
    struct Disagreement: Equatable {
        var routeID: String
        var key: String
        /// `instance → node`, by instance name.
        var placements: [(instance: String, node: String)]

        static func == (a: Self, b: Self) -> Bool {
            a.routeID == b.routeID && a.key == b.key && a.placements.map { "\($0.instance) \($0.node)" }
                == b.placements.map { "\($0.instance) \($0.node)" }
        }

        /// `sensor-7: a → 127.0.1.1:1883, b → 127.0.1.2:1883`
        var text: String {
            "\(key): " + placements.map { "\($0.instance) → \($0.node)" }.joined(separator: ", ")
        }
    }

    /// The chash keys that live connections through different instances hold on different nodes of the same route:
    /// the same client must land on the same broker whichever instance it comes through (a stale route on one of
    /// them breaks that).
    static func disagreements(_ data: ConsoleData) -> [Disagreement] {
        guard isFleet(data) else { return [] }
        var seen: [String: [String: [(instance: String, node: String)]]] = [:]
        for c in data.engine.connections {
            guard let key = c.hashKey, let instance = c.instance else { continue }
            seen[c.routeID, default: [:]][key, default: []].append((instance, c.node))
        }
        var found: [Disagreement] = []
        for (routeID, keys) in seen {
            for (key, placements) in keys where Set(placements.map(\.node)).count > 1
                && Set(placements.map(\.instance)).count > 1
            {
                let unique = Dictionary(placements.map { ("\($0.instance) \($0.node)", $0) }, uniquingKeysWith: { a, _ in a })
                found.append(Disagreement(routeID: routeID, key: key,
                                          placements: unique.values.sorted { ($0.instance, $0.node) < ($1.instance, $1.node) }))
            }
        }
        return found.sorted { ($0.routeID, $0.key) < ($1.routeID, $1.key) }
    }

    /// Instances whose routes differ from the others' (different store revisions), as `a rev 12, b rev 14`; nil
    /// when they agree.
    static func revisionMismatch(_ data: ConsoleData) -> String? {
        let known = data.engine.instances.filter(\.reachable).compactMap { i in revision(i).map { (i.name, $0) } }
        guard Set(known.map(\.1)).count > 1 else { return nil }
        return known.map { "\($0.0) rev \($0.1)" }.joined(separator: ", ")
    }

    /// The revision of the routes an instance runs: etcd's (the same on every instance that has read everything),
    /// else its store's own count of changes.
    static func revision(_ i: InstanceStatus) -> Int? {
        i.store?.provider == "etcd" ? i.store?.sourceRevision ?? i.storeRevision : i.storeRevision
    }

    /// The warning row of the Clients → Nodes view, or nil when the instances agree.
    static func warning(_ data: ConsoleData) -> String? {
        var parts: [String] = []
        let split = disagreements(data)
        if let first = split.first {
            parts.append("⚠ \(split.count) client id(s) placed differently by instances — \(first.text)")
        }
        if let revisions = revisionMismatch(data) { parts.append("⚠ routes differ: \(revisions)") }
        return parts.isEmpty ? nil : parts.joined(separator: " · ")
    }

    /// `a 60/1200 · b 58/1180`: active and total connections of a route on each instance.
    static func routeSplit(_ routeID: String, _ data: ConsoleData) -> String? {
        guard isFleet(data) else { return nil }
        return "per instance: " + data.engine.instances.map { i in
            let stats = i.routes.first { $0.routeID == routeID }
            return "\(i.name) \(stats?.active ?? 0)/\(stats?.total ?? 0)" + (i.reachable ? "" : " (lost)")
        }.joined(separator: " · ")
    }

    /// `a 60 · b 58`: a route's clients through each instance (the fleet's total leads the line).
    static func routeClients(_ routeID: String, _ data: ConsoleData) -> String? {
        guard isFleet(data) else { return nil }
        var counts: [String: Int] = [:]
        for c in data.engine.connections where c.routeID == routeID { counts[c.instance ?? "?", default: 0] += 1 }
        return data.engine.instances.map { "\($0.name) \(counts[$0.name] ?? 0)" }.joined(separator: " · ")
    }

    /// `a 34 · b 30`: clients on a node through each instance.
    static func nodeSplit(_ clients: [ConnectionInfo], _ data: ConsoleData) -> String? {
        guard isFleet(data) else { return nil }
        var counts: [String: Int] = [:]
        for c in clients { counts[c.instance ?? "?", default: 0] += 1 }
        return "per instance: " + data.engine.instances.map { "\($0.name) \(counts[$0.name] ?? 0)" }
            .joined(separator: " · ")
    }

    /// The instance bar of an attached console: per instance, `●` or `✗ lost 12s`, where its routes come from and
    /// their revision, and what following it costs. Segments with their roles.
    static func bar(_ state: ConsoleState, _ data: ConsoleData) -> [(String, Role)] {
        var out: [(String, Role)] = []
        for i in data.engine.instances {
            var text = " \(i.name) "
            let role: Role
            if i.reachable {
                text += "●"
                role = state.instanceFilter == i.name ? .accent : .good
            } else {
                let ago = i.lastSeen.map { "lost, last seen \(Format.duration(data.now - $0)) ago" } ?? "never answered"
                text += "✗ \(ago)" + (i.lastError.map { " (\($0))" } ?? "")
                role = .bad
            }
            if let store = i.store {
                let revision = revision(i) ?? 0
                text += store.reachable ? " \(store.provider) rev \(revision)" : " \(store.provider) ✗"
            }
            text += " \(Format.bytes(i.bytesReceived))↓"
            out.append((text, role))
        }
        return out
    }
}

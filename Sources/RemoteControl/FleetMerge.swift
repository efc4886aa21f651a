import Foundation
import ProxyControl

/// One picture from several instances' pictures: what an attached console shows as the fleet.
public enum FleetMerge {
    /// One instance: its status, and its last picture (nil before it ever answered).
    public struct Part: Sendable {
        public var status: InstanceStatus
        public var snapshot: EngineSnapshot?

        public init(status: InstanceStatus, snapshot: EngineSnapshot?) {
            self.status = status
            self.snapshot = snapshot
        }
    }

    /// Connections of every instance (ids tagged with the instance's position, `instance` set), counters summed per
    /// route and per node, a node's health combined (unhealthy or draining anywhere shows), events merged by time,
    /// listeners named by instance when there are several. A lost instance's last picture stays in: the console
    /// greys it.
    public static func merge(_ parts: [Part], version: Int, startedAt: Double) -> EngineSnapshot {
        let pictures = parts.compactMap(\.snapshot)
        let several = parts.count > 1
        var connections: [ConnectionInfo] = []
        var listeners: [String] = []
        var events: [EngineEvent] = []
        for (index, part) in parts.enumerated() {
            guard let snap = part.snapshot else { continue }
            for var c in snap.connections {
                c.id |= UInt64(index) << FleetControl.idShift
                c.instance = part.status.name
                connections.append(c)
            }
            listeners += snap.listeners.map { several ? "\(part.status.name) \($0)" : $0 }
            events += snap.events
        }
        var merged = EngineSnapshot(
            version: version, takenAt: Date().timeIntervalSince1970,
            startedAt: pictures.map(\.startedAt).min() ?? startedAt, listeners: listeners, connections: connections,
            routes: routes(pictures.flatMap(\.routes)), nodes: nodes(pictures.flatMap(\.nodes)),
            events: events.sorted { $0.time != $1.time ? $0.time < $1.time : $0.sequence < $1.sequence },
            pending: pictures.reduce(0) { $0 + $1.pending }, totalAccepted: pictures.reduce(0) { $0 + $1.totalAccepted },
            totalRejected: pictures.reduce(0) { $0 + $1.totalRejected },
            rejectedByReason: sum(pictures.map(\.rejectedByReason)),
            tlsHandshakes: pictures.reduce(0) { $0 + $1.tlsHandshakes },
            prereadBytes: pictures.reduce(0) { $0 + $1.prereadBytes },
            drainTimeout: pictures.map(\.drainTimeout).max() ?? 10)
        merged.health = health(parts)
        merged.store = parts.first(where: { $0.status.reachable })?.status.store ?? parts.first?.status.store
        merged.connectionLimit = pictures.reduce(0) { $0 + $1.connectionLimit }
        merged.descriptorLimit = pictures.reduce(0) { $0 + $1.descriptorLimit }
        merged.instances = parts.map(\.status)
        return merged
    }

    static func routes(_ all: [RouteStats]) -> [RouteStats] {
        var byID: [String: RouteStats] = [:]
        for r in all {
            guard var sum = byID[r.routeID] else {
                byID[r.routeID] = r
                continue
            }
            sum.active += r.active
            sum.total += r.total
            sum.bytesIn += r.bytesIn
            sum.bytesOut += r.bytesOut
            sum.connectFailures += r.connectFailures
            sum.rejected = Self.sum([sum.rejected, r.rejected])
            sum.disconnects = Self.sum([sum.disconnects, r.disconnects])
            byID[r.routeID] = sum
        }
        return byID.values.sorted { $0.routeID < $1.routeID }
    }

    static func nodes(_ all: [NodeStats]) -> [NodeStats] {
        var byNode: [String: NodeStats] = [:]
        for n in all {
            guard var sum = byNode[n.node] else {
                byNode[n.node] = n
                continue
            }
            sum.active += n.active
            sum.total += n.total
            sum.bytesIn += n.bytesIn
            sum.bytesOut += n.bytesOut
            sum.connectFailures += n.connectFailures
            sum.failing = sum.failing || n.failing
            sum.disconnects = Self.sum([sum.disconnects, n.disconnects])
            sum.connacks = Self.sum([sum.connacks, n.connacks])
            byNode[n.node] = sum
        }
        return byNode.values.sorted { $0.node < $1.node }
    }

    /// A node is unhealthy when an instance finds it so (the reason names the instance when there are several),
    /// draining when an instance drains it; its active count is the fleet's.
    static func health(_ parts: [Part]) -> [NodeHealth] {
        var byNode: [String: NodeHealth] = [:]
        var order: [String] = []
        for part in parts {
            for h in part.snapshot?.health ?? [] {
                var h = h
                if !h.healthy, parts.count > 1 { h.reason = "\(part.status.name): \(h.reason ?? "?")" }
                guard var combined = byNode[h.node] else {
                    byNode[h.node] = h
                    order.append(h.node)
                    continue
                }
                combined.active += h.active
                combined.checked = combined.checked || h.checked
                if combined.healthy, !h.healthy {
                    (combined.healthy, combined.state, combined.reason, combined.since) = (false, h.state, h.reason, h.since)
                }
                if combined.drain == nil { combined.drain = h.drain }
                combined.upstreams = Array(Set(combined.upstreams + h.upstreams)).sorted()
                byNode[h.node] = combined
            }
        }
        return order.compactMap { byNode[$0] }
    }

    static func sum<Key: Hashable>(_ maps: [[Key: Int]]) -> [Key: Int] {
        var out: [Key: Int] = [:]
        for map in maps { for (key, count) in map { out[key, default: 0] += count } }
        return out
    }
}

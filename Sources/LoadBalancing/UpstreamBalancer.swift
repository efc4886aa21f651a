/// Thread-safe balancer for one upstream; built once per node set and shared by all event loops.
///
/// Behaviour, following APISIX (`apisix/balancer.lua`, `balancer/priority.lua` and the per-type pickers):
/// - An upstream with exactly one node always gets that node first, without hashing, whatever its weight.
/// - Nodes are grouped by `priority`, highest first. A connection picks from the highest group; only when
///   every node of that group with weight > 0 has been tried does it move to the next lower group, where it
///   starts afresh (chash hashes the key again on that group's own ring).
/// - Within a group, a node of weight 0 is never picked, not even on a retry.
/// - Nodes with the same address and priority are merged the way APISIX's node map merges them: the last one
///   stands, earlier duplicates are never picked.
/// - `pick` returns nil once every pickable node has been tried.
public final class UpstreamBalancer: Sendable {
    /// The algorithm used inside each priority group.
    public let kind: BalancerKind
    /// The nodes, in the order given; `pick` returns indexes into this array.
    public let nodes: [BalancerNode]
    /// Priority groups, highest priority first.
    private let priorityGroups: [PriorityGroup]
    /// The group index of each node, or -1 for a duplicate replaced by a later node.
    private let groupOfNode: [Int]
    /// Connection counts, for `least_conn` only.
    private let leastConnections: LockedLeastConnections?

    /// Builds the groups and per-group state (the chash rings are computed here, once).
    public init(kind: BalancerKind, nodes: [BalancerNode]) {
        self.kind = kind
        self.nodes = nodes
        let priorities = Set(nodes.map(\.priority)).sorted(by: >)
        var groupOfNode = Array(repeating: -1, count: nodes.count)
        var lastIndex: [PriorityAddress: Int] = [:]
        for (index, node) in nodes.enumerated() {
            lastIndex[PriorityAddress(priority: node.priority, address: node.address)] = index
        }
        priorityGroups = priorities.enumerated().map { groupIndex, priority in
            let members = nodes.indices.filter { index in
                let node = nodes[index]
                return lastIndex[PriorityAddress(priority: priority, address: node.address)] == index
                    && node.priority == priority
            }
            for member in members {
                groupOfNode[member] = groupIndex
            }
            let memberNodes = members.map { nodes[$0] }
            let picker: GroupPicker
            switch kind {
            case .chash:
                picker = .ring(ConsistentHashRing(nodes: memberNodes))
            case .roundrobin:
                picker = .roundRobin(LockedRoundRobin(weights: memberNodes.map(\.weight)))
            case .leastConn:
                picker = .leastConn
            }
            return PriorityGroup(
                priority: priority,
                members: members,
                pickable: members.filter { nodes[$0].weight > 0 },
                picker: picker
            )
        }
        self.groupOfNode = groupOfNode
        leastConnections = kind == .leastConn ? LockedLeastConnections(weights: nodes.map(\.weight)) : nil
    }

    /// Next node index to try for a connection, or nil when every node (with weight > 0) has been tried.
    ///
    /// `hashKey` is used only by chash (the engine passes the client id or the client-IP fallback); a nil key
    /// hashes like the empty string. The returned index is recorded in `state`.
    public func pick(hashKey: String?, state: inout PickState) -> Int? {
        if nodes.count == 1 {
            guard !state.tried.contains(0) else { return nil }
            return record(0, in: &state)
        }
        while state.group < priorityGroups.count {
            if let index = pick(inGroup: state.group, hashKey: hashKey, state: &state) {
                return record(index, in: &state)
            }
            state.group += 1
            state.ringPoint = nil
        }
        return nil
    }

    /// Marks `index` tried and counts the attempt.
    private func record(_ index: Int, in state: inout PickState) -> Int {
        state.tried.insert(index)
        state.attempts += 1
        return index
    }

    /// The next untried node of one group, or nil when the group has none left.
    private func pick(inGroup groupIndex: Int, hashKey: String?, state: inout PickState) -> Int? {
        let group = priorityGroups[groupIndex]
        let tried = state.tried
        guard group.pickable.contains(where: { !tried.contains($0) }) else { return nil }
        switch group.picker {
        case .ring(let ring):
            // An untried member with weight > 0 owns points, so the ring is not empty and the walk ends.
            var current = if let point = state.ringPoint {
                ring.next(after: point)
            } else {
                ring.lookup(hashKey ?? "")!
            }
            while tried.contains(group.members[current.node]) {
                current = ring.next(after: current.point)
            }
            state.ringPoint = current.point
            return group.members[current.node]
        case .roundRobin(let roundRobin):
            let local = roundRobin.state.withLock { state in
                state.next(skipping: { tried.contains(group.members[$0]) })
            }
            return local.map { group.members[$0] }
        case .leastConn:
            let groupOfNode = groupOfNode
            return leastConnections?.state.withLock { state in
                state.pick(skipping: { groupOfNode[$0] != groupIndex || tried.contains($0) })
            }
        }
    }

    /// least_conn bookkeeping (no-op for other kinds): call as soon as a connection attempt to node `index` starts.
    ///
    /// Like APISIX, which raises a node's score when it picks it, count the attempt right after `pick`, so that
    /// concurrent picks see it.
    public func connectionOpened(_ index: Int) {
        guard let leastConnections, nodes.indices.contains(index) else { return }
        leastConnections.state.withLock { $0.opened(index) }
    }

    /// least_conn bookkeeping (no-op for other kinds): call when the attempt fails or the proxied connection ends.
    public func connectionClosed(_ index: Int) {
        guard let leastConnections, nodes.indices.contains(index) else { return }
        leastConnections.state.withLock { $0.closed(index) }
    }

    /// Active connections per node as counted by `connectionOpened`/`connectionClosed` (all 0 unless least_conn).
    public var activeConnections: [Int] {
        leastConnections?.state.withLock { $0.active } ?? Array(repeating: 0, count: nodes.count)
    }

    /// For previews/tests: where would this key go first (chash only; nil otherwise or when nothing is pickable).
    public func place(hashKey: String) -> Int? {
        guard kind == .chash else { return nil }
        var state = PickState()
        return pick(hashKey: hashKey, state: &state)
    }

    /// The priority groups, highest first, with the indexes of their members.
    public var groups: [(priority: Int, members: [Int])] {
        priorityGroups.map { (priority: $0.priority, members: $0.members) }
    }

    /// The consistent-hash ring of a priority group (chash only); ring node `i` is `groups[group].members[i]`.
    public func ring(ofGroup group: Int) -> ConsistentHashRing? {
        guard priorityGroups.indices.contains(group), case .ring(let ring) = priorityGroups[group].picker else {
            return nil
        }
        return ring
    }
}

/// Key of APISIX's per-priority node map.
private struct PriorityAddress: Hashable {
    let priority: Int
    let address: String
}

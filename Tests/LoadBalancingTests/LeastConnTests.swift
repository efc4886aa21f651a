import Testing
@testable import LoadBalancing

@Suite("Least connections")
struct LeastConnTests {
    @Test("picks the lowest (active + 1) / weight")
    func lowestScore() {
        var state = LeastConnections(weights: [1, 2])
        var picks: [Int] = []
        for _ in 0..<6 {
            let index = state.pick(skipping: { _ in false })!
            state.opened(index)
            picks.append(index)
        }
        // Scores: node 0 → (a+1)/1, node 1 → (b+1)/2; node 1 takes two connections for each of node 0.
        #expect(state.active == [2, 4])
        #expect(picks.filter { $0 == 1 }.count == 4)
    }

    @Test("ties go round-robin among equals")
    func tiesRotate() {
        var state = LeastConnections(weights: [1, 1, 1])
        // Every connection closes at once, so all nodes stay tied at 0 active.
        let picks = (0..<6).map { _ in state.pick(skipping: { _ in false })! }
        #expect(picks == [0, 1, 2, 0, 1, 2])
    }

    @Test("closing frees capacity; counts never go negative")
    func closing() {
        var state = LeastConnections(weights: [1, 1])
        state.opened(0)
        state.opened(0)
        state.opened(1)
        #expect(state.pick(skipping: { _ in false }) == 1)
        state.closed(0)
        state.closed(0)
        state.closed(0)
        #expect(state.active == [0, 1])
        #expect(state.pick(skipping: { _ in false }) == 0)
    }

    @Test("through the balancer: busy nodes are avoided, retries skip tried nodes, weight 0 never")
    func balancer() {
        var nodes = equalNodes(4)
        nodes[3].weight = 0
        let balancer = UpstreamBalancer(kind: .leastConn, nodes: nodes)
        balancer.connectionOpened(0)
        balancer.connectionOpened(0)
        balancer.connectionOpened(1)
        var state = PickState()
        #expect(balancer.pick(hashKey: nil, state: &state) == 2)
        #expect(balancer.pick(hashKey: nil, state: &state) == 1)
        #expect(balancer.pick(hashKey: nil, state: &state) == 0)
        #expect(balancer.pick(hashKey: nil, state: &state) == nil)
        #expect(balancer.activeConnections == [2, 1, 0, 0])
        balancer.connectionClosed(0)
        #expect(balancer.activeConnections == [1, 1, 0, 0])
    }

    @Test("bookkeeping is a no-op for other kinds and for unknown indexes")
    func noOps() {
        let balancer = UpstreamBalancer(kind: .roundrobin, nodes: equalNodes(2))
        balancer.connectionOpened(0)
        #expect(balancer.activeConnections == [0, 0])
        let leastConn = UpstreamBalancer(kind: .leastConn, nodes: equalNodes(2))
        leastConn.connectionOpened(7)
        leastConn.connectionClosed(-1)
        #expect(leastConn.activeConnections == [0, 0])
    }

    @Test("concurrent opens and closes balance out")
    func concurrent() async {
        let balancer = UpstreamBalancer(kind: .leastConn, nodes: equalNodes(3))
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    for _ in 0..<500 {
                        var state = PickState()
                        let index = balancer.pick(hashKey: nil, state: &state)!
                        balancer.connectionOpened(index)
                        balancer.connectionClosed(index)
                    }
                }
            }
        }
        #expect(balancer.activeConnections == [0, 0, 0])
    }

    @Test("open connections spread evenly over equal nodes")
    func spread() {
        let balancer = UpstreamBalancer(kind: .leastConn, nodes: equalNodes(3))
        for _ in 0..<300 {
            var state = PickState()
            balancer.connectionOpened(balancer.pick(hashKey: nil, state: &state)!)
        }
        #expect(balancer.activeConnections == [100, 100, 100])
    }
}

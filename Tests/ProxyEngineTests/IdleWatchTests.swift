import Foundation
import NIOCore
import NIOPosix
@testable import ProxyEngine
import Testing
import ProxyControl

/// The per-loop idle sweep that replaced a timer per relay.
@Suite("Idle watch")
struct IdleWatchTests {
    static func relay(idle seconds: Double) -> RelayState {
        let info = ConnectionInfo(
            id: 1, clientID: "c", username: nil, protocolLevel: 4, keepAlive: 60, cleanStart: true,
            remoteAddress: "127.0.0.1", remotePort: 1, localAddress: "127.0.0.1", localPort: 2, routeID: "1",
            node: "127.0.0.1:1883", hashKey: nil, ringPoint: nil, attempts: 1, startedAt: 0, bytesIn: 0, bytesOut: 0)
        let live = LiveConnection(info: info, route: RouteCounters(), node: NodeCounters(),
                                  metrics: EngineMetrics().pair(route: "1", node: "127.0.0.1:1883"))
        return RelayState(live: live, idleLimit: .nanoseconds(Int64(seconds * 1e9)), clientLevel: 4)
    }

    /// Names of the relays closed so far, in order, with the time after start (read on the loop).
    final class Closed: @unchecked Sendable {
        var names: [String] = []
        var after: [String: Double] = [:]
        var relays: [String: RelayState] = [:]
        var traffic: RepeatedTask?
        var watch: IdleWatch?
    }

    @Test func quietRelaysCloseAfterTheirOwnLimitAndBusyOrRemovedOnesDoNot() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let closed = Closed()
        let start = Date()
        try await loop.submit {
            let watch = IdleWatches().watch(for: loop)
            let relays = ["short": Self.relay(idle: 0.15), "long": Self.relay(idle: 0.6),
                          "busy": Self.relay(idle: 0.15), "removed": Self.relay(idle: 0.15)]
            for name in ["short", "long", "busy", "removed"] {
                watch.add(relays[name]!) { _ in
                    closed.names.append(name)
                    closed.after[name] = Date().timeIntervalSince(start)
                }
            }
            watch.remove(relays["removed"]!)
            #expect(watch.count == 3)
            // "busy" keeps seeing traffic every 50 ms until the end of the test.
            closed.traffic = loop.scheduleRepeatedTask(initialDelay: .milliseconds(50), delay: .milliseconds(50)) { _ in
                closed.relays["busy"]?.lastActivity = .now()
            }
            closed.relays = relays
        }.get()
        // Lower bounds are exact; the wait for "long" is generous, since a loaded machine delays the sweep.
        var done = false
        for _ in 0..<100 where !done {
            try await Task.sleep(nanoseconds: 50_000_000)
            done = try await loop.submit { closed.names.contains("long") }.get()
        }
        let (names, after, count) = try await loop.submit {
            closed.traffic?.cancel()
            return (closed.names, closed.after, closed.relays.values.filter { $0.watchIndex >= 0 }.count)
        }.get()
        #expect(names == ["short", "long"])
        let short = try #require(after["short"])
        let long = try #require(after["long"])
        #expect(short >= 0.15)
        #expect(long >= 0.6 && long > short)
        #expect(count == 1)  // only "busy" is still watched
        try await group.shutdownGracefully()
    }

    @Test func aShortLimitArrivingLaterBringsTheSweepForwardAndTheStepRelaxesWhenItEnds() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let closed = Closed()
        try await loop.submit {
            let watch = IdleWatch(loop: loop)
            let long = Self.relay(idle: 600)
            watch.add(long) { _ in }
            let first = try #require(watch.nextSweep)
            #expect(first - .now() > .milliseconds(500))  // 600 s limit: the 1 s step
            let short = Self.relay(idle: 0.08)
            watch.add(short) { _ in closed.names.append("short") }
            let second = try #require(watch.nextSweep)
            #expect(second - .now() <= .milliseconds(10))  // 80 ms / 8
            closed.relays = ["long": long, "short": short]
            closed.watch = watch
        }.get()
        var done = false
        for _ in 0..<100 where !done {
            try await Task.sleep(nanoseconds: 20_000_000)
            done = try await loop.submit { closed.names == ["short"] }.get()
        }
        #expect(done)
        // Only the 600 s relay is left, so the sweeps go back to once a second.
        let step = try await loop.submit { closed.watch?.sweepStep }.get()
        #expect(step == IdleWatch.longestStep)
        try await group.shutdownGracefully()
    }

    @Test func removingInAnyOrderKeepsTheOthersWatched() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let remaining = try await loop.submit { () -> Int in
            let watch = IdleWatch(loop: loop)
            let relays = (0..<50).map { _ in Self.relay(idle: 600) }
            for relay in relays { watch.add(relay) { _ in } }
            for (i, relay) in relays.enumerated() where i % 3 == 0 { watch.remove(relay) }
            watch.remove(relays[0])  // twice: ignored
            let stillWatched = relays.enumerated().filter { $0.offset % 3 != 0 }.allSatisfy { $0.element.watchIndex >= 0 }
            #expect(stillWatched)
            for relay in relays { watch.remove(relay) }
            return watch.count
        }.get()
        #expect(remaining == 0)
        try await group.shutdownGracefully()
    }
}

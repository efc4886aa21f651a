import DemoBroker
import Foundation
import Logging
import NIOCore
import NIOPosix
import ProxyTestSupport
import Testing

/// kill / revive / stop: the listener and the connections, as a proxy in front of the broker sees them.
@Suite("Demo broker lifecycle", .timeLimit(.minutes(1)))
struct LifecycleTests {
    @Test("start reports name, port and ip:port address")
    func startReportsAddress() async throws {
        try await withBroker(name: "node-a") { broker, _ in
            #expect(broker.name == "node-a")
            #expect(broker.port > 0)
            #expect(broker.address == "127.0.0.1:\(broker.port)")
            #expect(broker.isRunning)
        }
    }

    @Test("kill closes every client and refuses connections; revive accepts again on the same port")
    func killAndRevive() async throws {
        try await withBroker(host: "127.0.9.21") { broker, group in
            let port = broker.port
            let a = try await Peer.connect(broker, group: group, clientID: "a")
            let b = try await Peer.connect(broker, group: group, clientID: "b", level: 5)
            let silent = try await Peer.open(broker, group: group) // accepted, no CONNECT yet
            #expect(await eventually { broker.clientCount == 2 })

            await broker.kill()
            #expect(!broker.isRunning)
            #expect(broker.clientCount == 0)
            #expect(await a.waitForClose())
            #expect(await b.waitForClose())
            #expect(await silent.waitForClose())
            await #expect(throws: (any Error).self) {
                _ = try await TestClient.connect(host: broker.host, port: port, group: group)
            }
            await broker.kill() // idempotent

            try await broker.revive()
            #expect(broker.isRunning)
            #expect(broker.port == port)
            let again = try await Peer.connect(broker, group: group, clientID: "a")
            #expect(try await again.exchange(Wire.pingreq) == Wire.pingresp)
            #expect(broker.connectedClients == ["a"])
            #expect(broker.connectsTotal == 3)
            try await broker.revive() // no-op while running
            #expect(try await again.exchange(Wire.pingreq) == Wire.pingresp)
        }
    }

    @Test("kill and revive several times in a row, with retained messages kept")
    func repeatedKillRevive() async throws {
        try await withBroker(host: "127.0.9.22") { broker, group in
            let pub = try await Peer.connect(broker, group: group, clientID: "pub")
            _ = try await pub.exchange(Wire.publish("keep", "me", qos: 1, id: 1, retain: true))
            for round in 0..<3 {
                await broker.kill()
                #expect(await pub.waitForClose())
                try await broker.revive()
                let sub = try await Peer.connect(broker, group: group, clientID: "sub\(round)")
                _ = try await sub.exchange(Wire.subscribe(id: 1, [("keep", 0)]))
                #expect(await sub.nextPacket() == Wire.publish("keep", "me", retain: true))
            }
        }
    }

    @Test("stop is final: revive throws, event streams end")
    func stopIsFinal() async throws {
        try await withEventLoopGroup { group in
            let broker = try await DemoBroker.start(name: "final", group: group, logger: quietLogger())
            let events = broker.events()
            let peer = try await Peer.connect(broker, group: group, clientID: "c")
            await broker.stop()
            #expect(await peer.waitForClose())
            await #expect(throws: DemoBrokerError.stopped(name: "final")) { try await broker.revive() }
            var count = 0
            for await _ in events { count += 1 }
            #expect(count == 2) // connected, disconnected
        }
    }

    @Test("start on a port in use fails with a readable error")
    func portInUse() async throws {
        try await withBroker { broker, group in
            do {
                _ = try await DemoBroker.start(name: "second", port: broker.port, group: group, logger: quietLogger())
                Issue.record("a second broker started on port \(broker.port)")
            } catch let error as DemoBrokerError {
                #expect("\(error)".contains("demo broker \"second\" cannot listen on 127.0.0.1:\(broker.port)"))
            }
        }
    }
}

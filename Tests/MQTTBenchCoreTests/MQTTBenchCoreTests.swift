import Foundation
import MQTTCodec
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ProxyProtocol
import Testing

import MQTTBenchCore

@Suite("mqtt-bench: pure parts")
struct BenchPureTests {
    /// 130 bytes cannot be made (a 127-byte body gives 129, a 128-byte body needs 2 length bytes: 131), so it
    /// gives 129; 10 is below the minimum for the topic (11, or 12 with MQTT 5's property length).
    @Test(
        "PUBLISH packets have the requested size, or the closest below it",
        arguments: [(10, 11), (64, 64), (127, 127), (128, 128), (129, 129), (130, 129), (131, 131), (16_390, 16_390)]
    )
    func publishSize(size: Int, expected: Int) throws {
        for level: UInt8 in [4, 5] {
            let packet = BenchPackets.publish(topic: "bench/t", packetSize: size, protocolLevel: level)
            #expect(packet.readableBytes == (size == 10 && level == 5 ? 12 : expected))
            var copy = packet
            let frame = try #require(try MQTTFrameDecoder.nextFrame(in: &copy, maxPacketSize: 1 << 20))
            #expect(frame.type == .publish)
            #expect(copy.readableBytes == 0)
            let payload = try PublishPacket.decode(frame, protocolLevel: level).payload
            #expect(payload.readableBytesView.allSatisfy { $0 == 0x61 })
        }
    }

    @Test("CONNECT packets decode with the requested level and id")
    func connect() throws {
        for level: UInt8 in [4, 5] {
            let bytes = BenchPackets.connect(clientID: "bench-3-17", protocolLevel: level)
            guard case .complete(let packet) = ConnectDecoder.decode(bytes) else {
                Issue.record("CONNECT does not decode")
                return
            }
            #expect(packet.protocolLevel == level)
            #expect(packet.clientID == "bench-3-17")
        }
    }

    @Test("medians, ratios and added latency")
    func table() {
        func result(_ scenario: String, _ label: String, _ metrics: [String: Double]) -> BenchResult {
            BenchResult(scenario: scenario, label: label, metrics: metrics)
        }
        let results = [
            result("connect", "direct", ["rate": 100]), result("connect", "direct", ["rate": 300]),
            result("connect", "direct", ["rate": 200]),
            result("connect", "mqtt-proxy", ["rate": 90]), result("connect", "mqtt-proxy", ["rate": 70]),
            result("connect", "haproxy", ["rate": 60]), result("connect", "haproxy", ["rate": 40]),
            result("latency", "direct", ["p99_us": 50]), result("latency", "mqtt-proxy", ["p99_us": 80]),
            result("latency", "haproxy", ["p99_us": 110]),
        ]
        #expect(ResultTable.median([3, 1, 2]) == 2)
        #expect(ResultTable.median([4, 1, 3, 2]) == 2.5)
        #expect(ResultTable.median([]) == nil)
        let table = ResultTable(results: results)
        let rate = ResultTable.standardRows[0]
        #expect(table.value(rate, label: "direct") == 200)
        #expect(table.ratio(rate, over: "haproxy") == 1.6)
        #expect(table.ratio(rate, over: "direct") == 0.4)
        let added = ResultTable.standardRows.first { $0.minusDirect && $0.metric == "p99_us" }!
        #expect(table.value(added, label: "mqtt-proxy") == 30)
        #expect(table.value(added, label: "direct") == nil)
        #expect(table.ratio(added, over: "haproxy") == 0.5)
        let text = table.render()
        #expect(text.contains("connect: CONNECT->CONNACK/s"))
        #expect(!text.contains("throughput"))
    }

    @Test("JSON lines round-trip; other lines are ignored")
    func json() {
        let result = BenchResult(scenario: "idle", label: "haproxy", metrics: ["rss_per_conn_bytes": 1234.5])
        #expect(BenchResult.parse(line: result.jsonLine) == result)
        #expect(BenchResult.parse(line: "idle [haproxy]: …") == nil)
    }

    @Test("CPU ticks from a /proc stat line whose command name has spaces and parentheses")
    func cpuTicks() {
        let line = "4242 (mqtt (x) y) S 1 4242 4242 0 -1 4194304 600 0 0 0 150 25 0 0 20 0 3 0 100 0 0"
        #expect(ProcessStats.parseCPUTicks(stat: line) == 175)
        #expect(ProcessStats.parseCPUTicks(stat: "garbage") == nil)
        #if os(Linux)
        #expect(ProcessStats.cpuSeconds(pid: getpid()) != nil)
        #endif
    }

    @Test("VmRSS from /proc status text, and from this process")
    func rss() {
        #expect(ProcessStats.parseVmRSS(status: "Name:\tx\nVmRSS:\t   2048 kB\nVmSwap: 0 kB\n") == 2048)
        #expect(ProcessStats.parseVmRSS(status: "Name: x\n") == nil)
        #if os(Linux)
        #expect((ProcessStats.residentKiB(pid: getpid()) ?? 0) > 0)
        #endif
    }
}

@Suite("mqtt-bench: test upstream on loopback")
struct BenchLoopbackTests {
    @Test("CONNACK per level, sink counts PUBLISH, echo returns them")
    func upstream() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        for mode in [TestUpstream.Mode.sink, .echo] {
            let upstream = try await TestUpstream(
                addresses: [try SocketAddress(ipAddress: "127.0.0.1", port: 0)], mode: mode, group: group
            )
            let connector = BenchConnector(targets: upstream.localAddresses, sources: [])
            for level: UInt8 in [4, 5] {
                let echoes = NIOLockedCounter()
                let opened = await openSessions(
                    count: 3, connector: connector, group: group, protocolLevel: level, clientIDPrefix: "t",
                    onPublish: { _, _ in { _ in echoes.increment() } }
                )
                #expect(opened.failures == 0)
                for channel in opened.channels {
                    let packet = BenchPackets.publish(topic: "t", packetSize: 100, protocolLevel: level)
                    try await channel.writeAndFlush(BenchPackets.batch(of: packet, copies: 10))
                }
                for _ in 0..<200 where upstream.counters.snapshot.publishes < 30 * Int(level - 3) {
                    try await Task.sleep(nanoseconds: 10_000_000)
                }
                if mode == .echo {
                    for _ in 0..<200 where echoes.value < 30 {
                        try await Task.sleep(nanoseconds: 10_000_000)
                    }
                    #expect(echoes.value == 30)
                }
                await closeAll(opened.channels)
            }
            let counters = upstream.counters.snapshot
            #expect(counters.connects == 6)
            #expect(counters.publishes == 60)
            #expect(counters.bytes == 6_000)
            await upstream.close()
        }
        try await group.shutdownGracefully()
    }
}

@Suite("mqtt-bench: test upstream behind a proxy that sends PROXY headers")
struct BenchProxyHeaderTests {
    @Test("a v1 or v2 header before the CONNECT is skipped and counted")
    func skipsHeaders() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let upstream = try await TestUpstream(addresses: [try SocketAddress(ipAddress: "127.0.0.1", port: 0)],
                                              mode: .sink, group: group)
        let address = upstream.localAddresses[0]
        for version in [1, 2] {
            let header = ProxyHeader(version: version, source: try SocketAddress(ipAddress: "10.0.0.1", port: 5),
                                     destination: address).encoded()
            let answered = NIOLockedCounter()
            let channel = try await ClientBootstrap(group: group).channelInitializer { ch in
                ch.eventLoop.makeCompletedFuture { try ch.pipeline.syncOperations.addHandler(CountReads(answered)) }
            }.connect(to: address).get()
            let connect = ConnectPacket(protocolLevel: 4, clientID: "pp-\(version)").encoded
            try await channel.writeAndFlush(ByteBuffer(bytes: header + Array(connect.readableBytesView)))
            for _ in 0..<200 where answered.value == 0 { try await Task.sleep(nanoseconds: 5_000_000) }
            #expect(answered.value > 0, "CONNACK after a v\(version) header")
            try await channel.close()
        }
        #expect(upstream.counters.proxyHeaders.load(ordering: .relaxed) == 2)
        #expect(upstream.counters.snapshot.connects == 2)
        await upstream.close()
        try await group.shutdownGracefully()
    }

    final class CountReads: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let counter: NIOLockedCounter
        init(_ counter: NIOLockedCounter) { self.counter = counter }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) { counter.increment() }
    }
}

/// A thread-safe counter for callbacks that run on event loops.
final class NIOLockedCounter: Sendable {
    private let box = NIOLockedValueBox(0)
    func increment() { box.withLockedValue { $0 += 1 } }
    var value: Int { box.withLockedValue { $0 } }
}

import Foundation
import NIOPosix
import ProxyTestSupport
import Testing

/// scripts/bench.sh's C load generator and sinks: what they report is what the performance table shows, so they
/// are checked against each other and against a hand-written client here.
@Suite("mqtt-loadgen", .serialized)
struct LoadGeneratorTests {
    /// Starts a sink on two free ports; returns it and the ports once it listens. Two different ports, and new ones
    /// when another test took one between the check and the sink's bind (seen once in a clean-clone run).
    func startSink(_ binary: String) async throws -> (ChildProcess, [Int]) {
        var attempt = 0
        while true {
            attempt += 1
            let first = try ExternalTools.freePort()
            var second = try ExternalTools.freePort()
            while second == first { second = try ExternalTools.freePort() }
            let ports = [first, second]
            let sink = try ChildProcess(binary, ["sink", "--listen",
                                                 ports.map { "127.0.0.1:\($0)" }.joined(separator: ",")])
            let deadline = Date().addingTimeInterval(5)
            while !sink.text.contains("listening"), !sink.text.contains("in use"), Date() < deadline {
                try await Task.sleep(nanoseconds: 5_000_000)
            }
            if sink.text.contains("in use"), attempt < 3 {
                sink.stop()
                continue
            }
            #expect(sink.text.contains("listening"), "\(sink.text)")
            return (sink, ports)
        }
    }

    @Test func connectRunHoldsSessionsAndReportsTheTargetsCost() async throws {
        let binary = try #require(builtBinary("mqtt-loadgen"), "build the mqtt-loadgen product first")
        let (sink, ports) = try await startSink(binary)
        defer { sink.stop() }
        let run = try ChildProcess(binary, [
            "connect", "--target", ports.map { "127.0.0.1:\($0)" }.joined(separator: ","), "--label", "direct",
            "--pid", "\(sink.pid)", "--hold", "40", "--duration", "0.5", "--warmup", "0.1", "--threads", "2",
            "--concurrency", "4", "--protocol-level", "5",
        ])
        #expect(await run.wait(timeout: 60) == 0)
        let line = try #require(run.text.split(separator: "\n").first { $0.hasPrefix("{") }, "output: \(run.text)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(json["scenario"] as? String == "connect-held")
        #expect(json["label"] as? String == "direct")
        let metrics = try #require(json["metrics"] as? [String: Double])
        #expect(metrics["held"] == 40)
        #expect(metrics["held_refused"] == 0)
        #expect(metrics["errors"] == 0)
        #expect(metrics["refused"] == 0)
        #expect((metrics["completed"] ?? 0) > 0)
        #expect(metrics["rate"] == (metrics["completed"] ?? 0) / 0.5)
        #expect(metrics["target_cpu_us_per_conn"] != nil)
        #expect(metrics["rss_per_held_bytes"] != nil)
        #expect((metrics["p50_us"] ?? -1) >= 0 && (metrics["p99_us"] ?? 0) >= (metrics["p50_us"] ?? 0))
    }

    @Test func sinkAnswersAfterAPROXYHeaderAndIgnoresOtherPackets() async throws {
        let binary = try #require(builtBinary("mqtt-loadgen"), "build the mqtt-loadgen product first")
        let (sink, ports) = try await startSink(binary)
        defer { sink.stop() }
        try await withEventLoopGroup { group in
            let v2: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, 0x21, 0x11, 0x00, 0x0C,
                               127, 0, 0, 1, 127, 0, 0, 2, 0x30, 0x39, 0x07, 0x5B]
            let client = try await TestClient.connect(port: ports[0], group: group)
            // The header, a CONNECT split across two writes, a PUBLISH, then a PINGREQ.
            let connect = ConnectBytes.make(clientID: "sink-test")
            try await client.send(v2 + connect.prefix(5))
            try await client.send(Array(connect.dropFirst(5)) + [0x30, 0x03, 0x00, 0x01, 0x41, 0xC0, 0x00])
            #expect(await client.waitForBytes(6) == [0x20, 0x02, 0x00, 0x00, 0xD0, 0x00])
            let v1 = try await TestClient.connect(port: ports[1], group: group)
            try await v1.send(Array("PROXY TCP4 127.0.0.9 127.0.0.1 5000 1883\r\n".utf8) + connect)
            #expect(await v1.waitForBytes(4) == [0x20, 0x02, 0x00, 0x00])
            try await v1.send([0xE0, 0x00])
            #expect(await v1.waitForClose())
            await client.close()
        }
    }
}

import NIOConcurrencyHelpers
import MQTTCodec
import NIOCore

/// `latency`: C connections each publish R messages per second to an echo upstream and time the round trips.
///
/// Each PUBLISH carries its send time (monotonic nanoseconds); the echo comes back on the same connection.
/// Send times are staggered across connections so the load is even. The script subtracts the `direct`
/// percentiles from a proxy's to get the latency the proxy adds.
public struct LatencyScenario: Sendable {
    public var connector: BenchConnector
    public var connections = 16
    /// Messages per second per connection.
    public var rate = 100
    /// Payload bytes per PUBLISH (at least the 8-byte timestamp).
    public var payloadSize = 64
    public var settings = RunSettings()

    /// Creates the scenario with default settings.
    public init(connector: BenchConnector) {
        self.connector = connector
    }

    /// Runs the scenario against an echo upstream.
    public func run(group: any EventLoopGroup, label: String) async throws -> BenchResult {
        let start = NIODeadline.now()
        let window = settings.window(from: start)
        let (duration, protocolLevel) = (settings.duration, settings.protocolLevel)
        let level = protocolLevel
        // One probe per connection, created with its handler and keyed by the session number.
        let probes = NIOLockedValueBox<[Int: LatencyProbe]>([:])
        let opened = await openSessions(
            count: connections, connector: connector, group: group, protocolLevel: protocolLevel,
            clientIDPrefix: "bench-lat",
            onPublish: { index, loop in
                let probe = LatencyProbe(loop: loop, window: window, protocolLevel: level)
                probes.withLockedValue { $0[index] = probe }
                return { frame in probe.received(frame) }
            }
        )
        guard opened.failures == 0 else {
            await closeAll(opened.channels)
            throw BenchError("latency: \(opened.failures) connections failed: \(opened.firstError ?? "?")")
        }
        let interval = TimeAmount.nanoseconds(1_000_000_000 / Int64(max(rate, 1)))
        let payload = max(payloadSize, 8)
        var tasks: [RepeatedTask] = []
        let byIndex = probes.withLockedValue { $0 }
        for (index, channel) in zip(opened.indices, opened.channels) {
            let offset = TimeAmount.nanoseconds(interval.nanoseconds * Int64(index) / Int64(connections))
            let probe = byIndex[index]
            tasks.append(channel.eventLoop.scheduleRepeatedTask(initialDelay: offset, delay: interval) { _ in
                probe?.send(on: channel, payloadSize: payload)
            })
        }
        let remaining = window.end - NIODeadline.now()
        if remaining > .zero {
            try await Task.sleep(nanoseconds: UInt64(remaining.nanoseconds))
        }
        for task in tasks {
            task.cancel()
        }
        // Let the last echoes come back before counting losses.
        try await Task.sleep(nanoseconds: 200_000_000)
        var recorder = LatencyRecorder()
        var sent = 0
        var received = 0
        for probe in byIndex.values {
            let stats = try await probe.loop.submit { (probe.recorder, probe.sent, probe.received) }.get()
            recorder.merge(stats.0)
            sent += stats.1
            received += stats.2
        }
        await closeAll(opened.channels)
        var metrics = recorder.summary
        metrics["samples"] = Double(recorder.count)
        metrics["sent"] = Double(sent)
        metrics["lost"] = Double(sent - received)
        metrics["rate_total"] = Double(rate * connections)
        let settings = [
            "connections": String(connections), "rate_per_conn": String(rate), "payload": String(payload),
            "duration_s": String(Double(duration.nanoseconds) / 1e9),
        ]
        return BenchResult(scenario: "latency", label: label, metrics: metrics, settings: settings)
    }
}

/// One connection's send times and round trips; touched on `loop` only (hence `@unchecked`).
final class LatencyProbe: @unchecked Sendable {
    let loop: any EventLoop
    let window: (start: NIODeadline, end: NIODeadline)
    let protocolLevel: UInt8
    var recorder = LatencyRecorder()
    var sent = 0
    var received = 0

    init(loop: any EventLoop, window: (start: NIODeadline, end: NIODeadline), protocolLevel: UInt8) {
        self.loop = loop
        self.window = window
        self.protocolLevel = protocolLevel
    }

    /// Writes one PUBLISH stamped with the current time.
    func send(on channel: any Channel, payloadSize: Int) {
        var payload = ByteBuffer()
        payload.writeInteger(NIODeadline.now().uptimeNanoseconds)
        payload.writeRepeatingByte(0x61, count: payloadSize - 8)
        let packet = BenchPackets.publish(topic: "bench/latency", payload: payload, protocolLevel: protocolLevel)
        channel.writeAndFlush(packet, promise: nil)
        sent += 1
    }

    /// Records the round trip of an echoed PUBLISH whose send time falls inside the window.
    func received(_ frame: MQTTFrame) {
        received += 1
        guard let payload = try? PublishPacket.decode(frame, protocolLevel: protocolLevel, fromServer: true).payload,
            let stamp = payload.getInteger(at: payload.readerIndex, as: UInt64.self)
        else { return }
        let sentAt = NIODeadline.uptimeNanoseconds(stamp)
        guard sentAt >= window.start && sentAt < window.end else { return }
        recorder.record(nanoseconds: (NIODeadline.now() - sentAt).nanoseconds)
    }
}

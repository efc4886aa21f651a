import MQTTCodec
import NIOCore
import NIOPosix

/// Opens `count` MQTT sessions (connect, CONNECT, CONNACK) with at most `inFlight` handshakes at a time.
///
/// Returns the channels that got their CONNACK with their session numbers (`indices[i]` is the number of
/// `channels[i]`, as passed to `onPublish`), and the number that failed, with the first failure's text.
public func openSessions(
    count: Int,
    connector: BenchConnector,
    group: any EventLoopGroup,
    protocolLevel: UInt8,
    clientIDPrefix: String,
    inFlight: Int = 256,
    onPublish: (@Sendable (_ index: Int, _ loop: any EventLoop) -> (@Sendable (MQTTFrame) -> Void)?)? = nil
) async -> (channels: [any Channel], indices: [Int], failures: Int, firstError: String?) {
    await withTaskGroup(of: Result<(Int, any Channel), any Error>.self) { tasks in
        var channels: [any Channel] = []
        var indices: [Int] = []
        var failures = 0
        var firstError: String?
        func collect(_ result: Result<(Int, any Channel), any Error>) {
            switch result {
            case .success(let (index, channel)):
                channels.append(channel)
                indices.append(index)
            case .failure(let error):
                failures += 1
                firstError = firstError ?? "\(error)"
            }
        }
        for index in 0..<count {
            if index >= inFlight, let result = await tasks.next() {
                collect(result)
            }
            tasks.addTask {
                let loop = group.next()
                let connack = loop.makePromise(of: Void.self)
                let packet = BenchPackets.connect(clientID: "\(clientIDPrefix)-\(index)", protocolLevel: protocolLevel)
                let callback = onPublish?(index, loop)
                do {
                    let channel = try await connector.connect(sequence: index, on: loop) {
                        BenchClientHandler(connect: packet, connack: connack, onPublish: callback)
                    }.get()
                    let timeout = loop.scheduleTask(in: .seconds(10)) { connack.fail(BenchClientError.connackTimeout) }
                    defer { timeout.cancel() }
                    do {
                        try await connack.futureResult.get()
                    } catch {
                        channel.close(promise: nil)
                        throw error
                    }
                    return .success((index, channel))
                } catch {
                    connack.fail(error)
                    return .failure(error)
                }
            }
        }
        for await result in tasks {
            collect(result)
        }
        return (channels, indices, failures, firstError)
    }
}

/// Closes channels, waiting at most a few seconds in all.
public func closeAll(_ channels: [any Channel]) async {
    for channel in channels {
        channel.close(promise: nil)
    }
    for channel in channels {
        _ = try? await channel.closeFuture.get()
    }
}

/// `throughput`: C connections stream QoS 0 PUBLISH packets as fast as backpressure allows; the upstream
/// sink counts what arrives.
public struct ThroughputScenario: Sendable {
    public var connector: BenchConnector
    public var connections = 8
    /// Size of each PUBLISH packet on the wire, fixed header included.
    public var packetSize = 256
    public var settings = RunSettings()

    /// Creates the scenario with default settings.
    public init(connector: BenchConnector) {
        self.connector = connector
    }

    /// Runs the scenario; `counters` are the sink upstream's (in-process) counters.
    public func run(group: any EventLoopGroup, counters: UpstreamCounters, label: String) async throws -> BenchResult {
        let (warmup, duration, protocolLevel) = (settings.warmup, settings.duration, settings.protocolLevel)
        let opened = await openSessions(
            count: connections, connector: connector, group: group, protocolLevel: protocolLevel,
            clientIDPrefix: "bench-tp"
        )
        guard opened.failures == 0 else {
            await closeAll(opened.channels)
            throw BenchError("throughput: \(opened.failures) connections failed: \(opened.firstError ?? "?")")
        }
        let packet = BenchPackets.publish(
            topic: "bench/throughput", packetSize: packetSize, protocolLevel: protocolLevel
        )
        // About 32 KiB per write: few system calls, and well under the default 64 KiB high water mark.
        let batch = BenchPackets.batch(of: packet, copies: max(1, 32_768 / packet.readableBytes))
        let deadline = NIODeadline.now() + warmup + duration + .milliseconds(200)
        for channel in opened.channels {
            try await channel.eventLoop.submit {
                try channel.pipeline.syncOperations.addHandler(PublishPump(batch: batch, deadline: deadline))
            }.get()
        }
        try await Task.sleep(nanoseconds: UInt64(warmup.nanoseconds))
        let before = counters.snapshot
        let started = NIODeadline.now()
        try await Task.sleep(nanoseconds: UInt64(duration.nanoseconds))
        let after = counters.snapshot
        let seconds = Double((NIODeadline.now() - started).nanoseconds) / 1e9
        await closeAll(opened.channels)
        let bytes = Double(after.bytes - before.bytes)
        let metrics = [
            "mb_per_s": bytes / seconds / 1e6,
            "msgs_per_s": Double(after.publishes - before.publishes) / seconds,
            "connections": Double(connections),
            "packet_size": Double(packet.readableBytes),
        ]
        let settings = ["duration_s": String(seconds), "protocol_level": String(protocolLevel)]
        return BenchResult(scenario: "throughput", label: label, metrics: metrics, settings: settings)
    }
}

/// `idle`: open N sessions, hold them, and report how much a given process's RSS grew per connection.
public struct IdleScenario: Sendable {
    public var connector: BenchConnector
    public var connections = 10_000
    public var hold: TimeAmount = .seconds(3)
    /// The process whose memory is measured (the proxy); nil measures nothing but still opens the sessions.
    public var pid: Int32?
    public var protocolLevel: UInt8 = 4

    /// Creates the scenario with default settings.
    public init(connector: BenchConnector) {
        self.connector = connector
    }

    /// Runs the scenario on `group`.
    public func run(group: any EventLoopGroup, label: String) async throws -> BenchResult {
        let limit = ProcessStats.raiseOpenFileLimit()
        let before = pid.flatMap(ProcessStats.residentKiB(pid:))
        let started = NIODeadline.now()
        let opened = await openSessions(
            count: connections, connector: connector, group: group, protocolLevel: protocolLevel,
            clientIDPrefix: "bench-idle"
        )
        let openSeconds = Double((NIODeadline.now() - started).nanoseconds) / 1e9
        try await Task.sleep(nanoseconds: UInt64(hold.nanoseconds))
        let after = pid.flatMap(ProcessStats.residentKiB(pid:))
        // Count the sessions still open at the end of the hold, not just those that got a CONNACK.
        let stillOpen = opened.channels.filter(\.isActive).count
        await closeAll(opened.channels)
        var metrics: [String: Double] = [
            "established": Double(stillOpen),
            "failed": Double(opened.failures),
            "open_seconds": openSeconds,
        ]
        if let before, let after {
            metrics["rss_before_kib"] = Double(before)
            metrics["rss_after_kib"] = Double(after)
            metrics["rss_per_conn_bytes"] = stillOpen == 0 ? 0 : Double(after - before) * 1024 / Double(stillOpen)
        }
        var settings = ["nofile_limit": String(limit), "hold_s": String(Double(hold.nanoseconds) / 1e9)]
        if let pid {
            settings["pid"] = String(pid)
        }
        if let firstError = opened.firstError {
            settings["first_error"] = firstError
        }
        return BenchResult(scenario: "idle", label: label, metrics: metrics, settings: settings)
    }
}

/// A benchmark-level failure with a message for the operator.
public struct BenchError: Error, CustomStringConvertible, Sendable {
    public var description: String

    /// Creates an error.
    public init(_ description: String) {
        self.description = description
    }
}

import NIOCore

/// `connect`: P parallel clients loop over connect, CONNECT, CONNACK, DISCONNECT, close.
///
/// Latency is measured from the start of the TCP connect to the CONNACK (what a client waits for). Only
/// CONNACKs that arrive inside the measured window (after the warm-up) count towards the rate and latencies.
public struct ConnectScenario: Sendable {
    public var connector: BenchConnector
    public var parallel = 32
    public var settings = RunSettings()

    /// Creates the scenario with default settings.
    public init(connector: BenchConnector) {
        self.connector = connector
    }

    /// Runs the scenario on `group` and returns its result.
    public func run(group: any EventLoopGroup, label: String) async throws -> BenchResult {
        let start = NIODeadline.now()
        let window = settings.window(from: start)
        let (warmup, duration, protocolLevel) = (settings.warmup, settings.duration, settings.protocolLevel)
        let workers = (0..<parallel).map { index in
            ConnectWorker(
                id: index, parallel: parallel, loop: group.next(), connector: connector,
                protocolLevel: protocolLevel, window: window
            )
        }
        for worker in workers {
            worker.loop.execute { worker.next() }
        }
        var recorder = LatencyRecorder()
        var completed = 0
        var errors = 0
        var firstError: String?
        for worker in workers {
            // A worker finishes its connection in flight after the window (bounded by the 5 s timeouts).
            let stats = try await worker.done.futureResult.get()
            recorder.merge(stats.recorder)
            completed += stats.completed
            errors += stats.errors
            firstError = firstError ?? stats.firstError
        }
        var metrics = recorder.summary
        metrics["rate"] = Double(completed) / Double(duration.nanoseconds) * 1e9
        metrics["completed"] = Double(completed)
        metrics["errors"] = Double(errors)
        var settings = [
            "parallel": String(parallel), "duration_s": String(Double(duration.nanoseconds) / 1e9),
            "warmup_s": String(Double(warmup.nanoseconds) / 1e9), "protocol_level": String(protocolLevel),
        ]
        if let firstError {
            settings["first_error"] = firstError
        }
        return BenchResult(scenario: "connect", label: label, metrics: metrics, settings: settings)
    }
}

/// What one connect worker measured.
struct ConnectWorkerStats: Sendable {
    var recorder = LatencyRecorder()
    var completed = 0
    var errors = 0
    var firstError: String?
}

/// One sequential client of the connect scenario. All state is touched on `loop` only (hence `@unchecked`).
final class ConnectWorker: @unchecked Sendable {
    let id: Int
    let parallel: Int
    let loop: any EventLoop
    let connector: BenchConnector
    let protocolLevel: UInt8
    let window: (start: NIODeadline, end: NIODeadline)
    let done: EventLoopPromise<ConnectWorkerStats>
    private var stats = ConnectWorkerStats()
    private var sequence = 0

    init(
        id: Int, parallel: Int, loop: any EventLoop, connector: BenchConnector, protocolLevel: UInt8,
        window: (start: NIODeadline, end: NIODeadline)
    ) {
        self.id = id
        self.parallel = parallel
        self.loop = loop
        self.connector = connector
        self.protocolLevel = protocolLevel
        self.window = window
        self.done = loop.makePromise()
    }

    /// Starts the next connection, or finishes when the window is over.
    func next() {
        loop.assertInEventLoop()
        let started = NIODeadline.now()
        guard started < window.end else {
            done.succeed(stats)
            return
        }
        let number = sequence
        sequence += 1
        let connack = loop.makePromise(of: Void.self)
        let packet = BenchPackets.connect(clientID: "bench-\(id)-\(number)", protocolLevel: protocolLevel)
        connector.connect(sequence: id + number * parallel, on: loop) {
            BenchClientHandler(connect: packet, connack: connack)
        }.whenComplete { result in
            switch result {
            case .failure(let error):
                connack.fail(error)
                self.failed(error)
                // Back off a little so a refusing target does not turn this into a busy loop.
                self.loop.scheduleTask(in: .milliseconds(10)) { self.next() }
            case .success(let channel):
                let timeout = self.loop.scheduleTask(in: .seconds(5)) { connack.fail(BenchClientError.connackTimeout) }
                connack.futureResult.whenComplete { result in
                    timeout.cancel()
                    switch result {
                    case .success:
                        let now = NIODeadline.now()
                        if now >= self.window.start && now < self.window.end {
                            self.stats.completed += 1
                            self.stats.recorder.record(nanoseconds: (now - started).nanoseconds)
                        }
                        channel.writeAndFlush(BenchPackets.disconnect, promise: nil)
                        channel.close(promise: nil)
                    case .failure(let error):
                        self.failed(error)
                        channel.close(promise: nil)
                    }
                    // The next connection starts once this one is closed: at most `parallel` are open.
                    channel.closeFuture.whenComplete { _ in self.next() }
                }
            }
        }
    }

    private func failed(_ error: any Error) {
        stats.errors += 1
        if stats.firstError == nil {
            stats.firstError = "\(error)"
        }
    }
}

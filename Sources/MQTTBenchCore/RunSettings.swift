import NIOCore

/// What every load scenario shares: how long it warms up, how long it measures, and the MQTT version its
/// clients speak.
public struct RunSettings: Sendable {
    public var warmup: TimeAmount = .seconds(1)
    public var duration: TimeAmount = .seconds(5)
    /// 4 (MQTT 3.1.1) or 5.
    public var protocolLevel: UInt8 = 4

    public init(warmup: TimeAmount = .seconds(1), duration: TimeAmount = .seconds(5), protocolLevel: UInt8 = 4) {
        self.warmup = warmup
        self.duration = duration
        self.protocolLevel = protocolLevel
    }

    /// The measured window of a run that starts at `start`: after the warm-up, for the duration.
    func window(from start: NIODeadline) -> (start: NIODeadline, end: NIODeadline) {
        (start: start + warmup, end: start + warmup + duration)
    }
}

import NIOCore

/// State shared by the two halves of one relayed connection; both channels live on the same event loop,
/// so this is only ever touched from that loop.
final class RelayState {
    let live: LiveConnection
    let idleLimit: TimeAmount
    var lastActivity = NIODeadline.now()
    /// What ended the relay first ("client closed", "broker closed", "idle timeout", …).
    var closeReason: String?
    /// Position in its loop's `IdleWatch` (-1 when not watched) and what the watch calls when the relay idles.
    var watchIndex = -1
    var closeIdle: ((RelayState) -> Void)?

    init(live: LiveConnection, idleLimit: TimeAmount) {
        self.live = live
        self.idleLimit = idleLimit
    }

    /// How many of the two channels have closed.
    private var closedSides = 0

    /// One side's channel closed; true for the second, when the relay has ended.
    func sideClosed() -> Bool {
        closedSides += 1
        return closedSides == 2
    }

    func noteClose(_ reason: String) {
        if closeReason == nil { closeReason = reason }
    }
}

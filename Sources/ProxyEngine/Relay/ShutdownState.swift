import Atomics
import NIOConcurrencyHelpers

/// Whether the engine is ending its relays for good, and how: relays set up from then on end at once. Read per
/// connection with one atomic load.
final class ShutdownState: Sendable {
    private let active = ManagedAtomic<Bool>(false)
    private let state = NIOLockedValueBox<RelayEnding?>(nil)

    /// The ending every relay gets, once shutdown began; nil before.
    var ending: RelayEnding? {
        guard active.load(ordering: .acquiring) else { return nil }
        return state.withLockedValue { $0 }
    }

    /// Starts ending relays with `ending`.
    func begin(_ ending: RelayEnding) {
        state.withLockedValue { $0 = ending }
        active.store(true, ordering: .releasing)
    }
}

import ProxyModel
import RouteStore

/// A change validated by the store but not applied, with the live clients it would move.
public struct ChangePreview: Sendable {
    /// The change as the store would make it.
    public var change: PreparedChange
    /// The clients it would move; nil when no engine was asked (an admin API without a running engine).
    public var rebalance: RebalancePreview?

    public init(change: PreparedChange, rebalance: RebalancePreview?) {
        self.change = change
        self.rebalance = rebalance
    }

    /// The one way to preview a change, used by the admin API's dry runs and by the console before a save:
    /// the store validates `body` as it would for a put, then the engine works out which clients would move.
    public static func make(_ kind: ResourceKind, id: String?, body: JSONValue, store: any RouteStore,
                            engine: (any EngineControl)?) async throws(StoreError) -> ChangePreview
    {
        let change = try await store.prepare(kind, id: id, json: body)
        let rebalance = await engine?.previewRebalance(proposed: change.resources)
        return ChangePreview(change: change, rebalance: rebalance)
    }
}

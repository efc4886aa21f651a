import Atomics

extension ProxyEngine {
    /// Closes one relayed connection (client and broker side) on an operator's request; the registry then
    /// records it as "disconnected by operator". Returns false when no live connection has that id.
    @discardableResult
    public func disconnect(connectionID: UInt64) -> Bool {
        guard let live = registry.liveConnection(connectionID), let channel = live.channel else { return false }
        live.closedByOperator.store(true, ordering: .relaxed)
        let who = live.info.clientID ?? live.info.remoteAddress
        logger.notice("closing connection \(connectionID) (\(who)) on operator request")
        channel.close(promise: nil)
        return true
    }
}

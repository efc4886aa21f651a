import ProxyEngine

/// Connections per second per route over the last minute, from the routes' total counters sampled about
/// once a second.
struct ConnectRates {
    static let window = 60

    private var lastTotals: [String: Int] = [:]
    private var lastTime: Double?
    private(set) var rates: [String: [Double]] = [:]

    /// Adds one sample per route from `routes` taken at `time` (unix seconds).
    mutating func sample(_ routes: [RouteStats], at time: Double) {
        defer { lastTime = time }
        guard let previous = lastTime, time > previous else {
            lastTotals = Dictionary(routes.map { ($0.routeID, $0.total) }, uniquingKeysWith: { a, _ in a })
            return
        }
        let elapsed = time - previous
        var totals: [String: Int] = [:]
        for route in routes {
            totals[route.routeID] = route.total
            let before = lastTotals[route.routeID] ?? route.total
            var series = rates[route.routeID] ?? []
            series.append(Double(max(0, route.total - before)) / elapsed)
            if series.count > ConnectRates.window { series.removeFirst(series.count - ConnectRates.window) }
            rates[route.routeID] = series
        }
        for gone in rates.keys where totals[gone] == nil { rates[gone] = nil }
        lastTotals = totals
    }
}

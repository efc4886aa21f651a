import ProxyControl

/// Connections per second per route over the last minute, from the routes' total counters sampled about
/// once a second.
struct ConnectRates {
    static let window = 60

    private var lastTotals: [String: Int] = [:]
    private var lastBytes: [String: (in: Int, out: Int)] = [:]
    private var lastTime: Double?
    private(set) var rates: [String: [Double]] = [:]
    /// Bytes per second each way per route, over the last sample interval.
    private(set) var byteRates: [String: ByteRate] = [:]

    /// Adds one sample per route from `routes` taken at `time` (unix seconds).
    mutating func sample(_ routes: [RouteStats], at time: Double) {
        defer { lastTime = time }
        guard let previous = lastTime, time > previous else {
            lastTotals = Dictionary(routes.map { ($0.routeID, $0.total) }, uniquingKeysWith: { a, _ in a })
            lastBytes = Dictionary(routes.map { ($0.routeID, ($0.bytesIn, $0.bytesOut)) }, uniquingKeysWith: { a, _ in a })
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
            let bytesBefore = lastBytes[route.routeID] ?? (route.bytesIn, route.bytesOut)
            byteRates[route.routeID] = ByteRate(
                inPerSecond: Double(max(0, route.bytesIn - bytesBefore.in)) / elapsed,
                outPerSecond: Double(max(0, route.bytesOut - bytesBefore.out)) / elapsed)
            lastBytes[route.routeID] = (route.bytesIn, route.bytesOut)
        }
        for gone in byteRates.keys where totals[gone] == nil { byteRates[gone] = nil }
        for gone in rates.keys where totals[gone] == nil { rates[gone] = nil }
        lastTotals = totals
    }
}

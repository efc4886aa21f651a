import Foundation
import ProxyModel

/// What `mqtt-proxy demo` runs: how many brokers and clients, how fast clients come and go, and the seed that
/// makes client ids and timings repeat from run to run.
public struct DemoSettings: Sendable, Equatable {
    /// Number of demo brokers (each on its own loopback address).
    public var brokers = 3
    /// Number of simulated clients.
    public var clients = 200
    /// Clients disconnected and reconnected per second (0: none).
    public var churnPerSecond: Double = 5
    /// Seed of the client ids, their publish timings and the churn order.
    public var seed: UInt64 = 7
    /// Mean seconds between two publishes of one client.
    public var publishInterval: Double = 5
    /// Share of clients that send an empty client id (placed by their address).
    public var emptyIDShare: Double = 0.05
    /// Longest wait, in seconds, for the fleet to settle after a kill, revive, drain or rebalance before the
    /// step's moves are recorded (a loaded machine reconnects slower).
    public var settleTimeout: Double = 10

    public init() {}

    /// Settings for `brokers` brokers and `clients` clients; the rest keeps its defaults.
    public init(brokers: Int, clients: Int, churnPerSecond: Double, seed: UInt64) {
        self.brokers = brokers
        self.clients = clients
        self.churnPerSecond = churnPerSecond
        self.seed = seed
    }

    /// The proxy configuration of a demo: one listener on a free loopback port (known once bound), the admin API
    /// on 127.0.0.1:`adminPort` (0: any free port) with the documented key, a short connect timeout so killed
    /// brokers are noticed quickly, and the store file checked every second.
    public static func proxyConfig(adminPort: Int) -> ProxyConfig {
        var config = ProxyConfig()
        config.listeners = [StreamListener(host: "127.0.0.1", port: 0)]
        config.admin.keys = [AdminKey.documentedExample]
        config.admin.listenPort = adminPort
        config.engine.connectTimeout = 1
        config.engine.storeWatchInterval = 1
        // A client of a frozen broker that reconnects leaves a half-closed relay behind; it goes after a second.
        config.engine.halfCloseTimeout = 1
        return config
    }

    /// The demo's files: its proxy config (see `proxyConfig`) and a store in a temporary folder of its own, which
    /// `removeTemporaryStore` deletes.
    public static func files(adminPort: Int) throws -> ResolvedFiles {
        let dir = NSTemporaryDirectory() + "mqtt-proxy-demo-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return ResolvedFiles(configPath: nil, storePath: dir + "/apisix.yaml",
                             loaded: LoadedConfig(config: proxyConfig(adminPort: adminPort), warnings: []))
    }

    /// Deletes the folder `files(adminPort:)` made.
    public static func removeTemporaryStore(_ files: ResolvedFiles) {
        try? FileManager.default.removeItem(atPath: (files.storePath as NSString).deletingLastPathComponent)
    }

    /// The line the demo prints when it is up.
    public func banner(proxyPort: Int, admin: String, cluster: DemoCluster, churn: String) -> String {
        let brokersText = cluster.brokers.map { "\($0.name) \($0.address)" }.joined(separator: ", ")
        return """
            mqtt-proxy demo: proxy on 127.0.0.1:\(proxyPort), admin API on \(admin) \
            (key \(AdminKey.documentedExample.key)); \(brokers) brokers (\(brokersText)); \(clients) clients, \
            churn \(churn), seed \(seed)
            """
    }

    /// Parses a churn rate: `5`, `5/s`, `30/m` or `0`.
    public static func parseChurn(_ text: String) -> Double? {
        let parts = text.split(separator: "/", maxSplits: 1).map(String.init)
        guard let value = Double(parts[0]), value >= 0, value.isFinite else { return nil }
        guard parts.count == 2 else { return value }
        switch parts[1] {
        case "s": return value
        case "m", "min": return value / 60
        default: return nil
        }
    }
}

/// A small, fast, seedable random number generator (SplitMix64), so a seed gives the same demo every time.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Realistic client ids for a fleet: sensors, trucks by region, meters, lobby cameras, and a few empty ids.
public enum DemoClientIDs {
    /// `count` distinct ids (empty ones are `""`), the same for the same seed.
    public static func make(count: Int, seed: UInt64, emptyShare: Double = 0.05) -> [String] {
        var rng = SeededRandom(seed: seed)
        var seen: Set<String> = []
        var out: [String] = []
        let regions = ["eu", "us", "ap", "sa"]
        let sites = ["lobby", "dock", "gate", "yard", "roof"]
        while out.count < count {
            let roll = Double(rng.next() % 10_000) / 10_000
            if roll < emptyShare {
                out.append("")
                continue
            }
            let kind = rng.next() % 10
            let id: String
            switch kind {
            case 0...3: id = "sensor-" + pad(Int(rng.next() % 10_000), 4)
            case 4...6: id = "truck-\(regions[Int(rng.next() % 4)])-\(Int(rng.next() % 99) + 1)"
            case 7...8: id = "meter-" + String(rng.next() % 0xFFFFFF, radix: 16)
            default: id = "cam-\(sites[Int(rng.next() % 5)])-\(Int(rng.next() % 9) + 1)"
            }
            if seen.insert(id).inserted { out.append(id) }
        }
        return out
    }

    private static func pad(_ n: Int, _ width: Int) -> String {
        let s = String(n)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }
}

import Foundation
import ProxyTestSupport
import Testing

/// `mqtt-proxy demo --headless`: the binary runs its own brokers and clients, kills and revives a broker,
/// and prints the report.
@Suite("mqtt-proxy demo, headless")
struct DemoCommandTests {
    @Test func theHeadlessDemoPrintsSharesAndMovesOnlyTheKilledBrokersClients() async throws {
        let binary = try #require(proxyBinary(), "build the mqtt-proxy product first")
        let dir = NSTemporaryDirectory() + "mqtt-proxy-demo-e2e-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let demo = try ChildProcess("/bin/sh", ["-c", "cd '\(dir)' && exec '\(binary)' demo --headless --duration 9 "
                                                + "--clients 90 --churn 0 --seed 11 --admin-port 0"])
        defer { demo.stop() }
        let status = await demo.wait(timeout: 60)
        let out = demo.text
        #expect(status == 0, "\(out)")
        #expect(out.contains("mqtt-proxy demo: proxy on 127.0.0.1:"), "\(out)")
        let nodeLines = out.split(separator: "\n").filter { $0.contains("broker-") && $0.contains("%") }
        #expect(nodeLines.count == 3, "\(out)")
        for line in nodeLines {
            let clients = Int(line.split(separator: " ").last ?? "") ?? 0
            #expect(clients > 10, "every broker gets clients: \(line)")
            #expect(line.contains("33.3%"), "equal weights, equal expected shares: \(line)")
        }
        let kill = try #require(out.split(separator: "\n").first { $0.contains("kill broker-2") }, "\(out)")
        #expect(kill.contains("none between other nodes") && kill.contains("0 moved onto it"), "\(kill)")
        let revive = try #require(out.split(separator: "\n").first { $0.contains("revive broker-2") }, "\(out)")
        #expect(revive.contains("none between other nodes"), "\(revive)")
        // The numbers of the kill and the revive agree: the clients that left came back.
        func number(after marker: String, in line: Substring) -> Int? {
            guard let r = line.range(of: marker) else { return nil }
            return Int(line[r.upperBound...].prefix { $0.isNumber })
        }
        #expect(number(after: "moved ", in: kill) == number(after: "moved ", in: revive), "\(kill)\n\(revive)")
    }
}

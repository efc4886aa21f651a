@testable import Console
import Foundation
@testable import ProxyEngine
import Testing

@Suite("Console with a large fleet")
struct LargeFleetTests {
    static func fleet(_ n: Int) -> ConsoleData {
        var d = Fixture.data()
        d.engine.connections = (1...n).map { i in
            Fixture.connection(UInt64(i), String(format: "device-%05d", i),
                               node: i % 3 == 0 ? "127.0.0.2:1883" : "127.0.0.1:1883")
        }
        return d
    }

    @Test func tenThousandConnectionsRenderScrollAndFilter() {
        let d = Self.fleet(10_000)
        let c = ConsoleController()
        let started = Date()
        var lines = Fixture.render(c, d, width: 160, height: 48)
        #expect(lines.contains { $0.contains("device-00001") })
        _ = c.handle(.end, data: d)
        lines = Fixture.render(c, d, width: 160, height: 48)
        #expect(lines.contains { $0.contains("device-10000") })
        for ch in "/device-0999" { _ = c.handle(.char(ch), data: d) }
        lines = Fixture.render(c, d, width: 160, height: 48)
        #expect(lines.contains { $0.contains("device-09990") })
        #expect(!lines.contains { $0.contains("device-00001") })
        _ = c.handle(.enter, data: d)
        _ = c.handle(.char("2"), data: d)
        lines = Fixture.render(c, d, width: 160, height: 48)
        #expect(lines.contains { $0.contains("route 1 · chash on mqtt_client_id · 10000 client(s)") })
        if ProcessInfo.processInfo.environment["MQTT_PROXY_PRINT_TIMINGS"] != nil {
            print("10k fleet: 4 frames + keys in \(Int(Date().timeIntervalSince(started) * 1000)) ms")
        }
    }
}

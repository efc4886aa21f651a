#if canImport(Glibc)
import Glibc
#endif

/// A loopback port that refuses connections and that no other test can take: a socket bound to it but
/// never listening. Use it as a "dead broker"; call `release()` at the end of the test.
public final class ClosedPort: Sendable {
    public let host: String
    public let port: Int
    private let fd: Int32

    public init(host: String = "127.0.0.99") throws {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard s >= 0 else { throw BrokerError(message: "socket() failed") }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        inet_pton(AF_INET, host, &addr.sin_addr)
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            close(s)
            throw BrokerError(message: "bind(\(host):0) failed")
        }
        var bound = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &bound) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(s, $0, &len) }
        }
        self.fd = s
        self.host = host
        self.port = Int(UInt16(bigEndian: bound.sin_port))
    }

    /// `host:port` as the balancer names it.
    public var address: String { "\(host):\(port)" }

    public func release() { close(fd) }
}

/// A loopback port whose accept queue is full, so new connection attempts hang (SYNs are dropped) until
/// the connecting side times out: a broker that "does not answer". Call `release()` at the end.
public final class BlackholePort: Sendable {
    public let host: String
    public let port: Int
    private let fds: [Int32]

    public init(host: String = "127.0.0.98") throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        inet_pton(AF_INET, host, &addr.sin_addr)
        let size = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, size) } }
        guard listen(listener, 0) == 0 else { throw BrokerError(message: "listen failed") }
        var bound = sockaddr_in()
        var len = size
        _ = withUnsafeMutablePointer(to: &bound) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &len) }
        }
        var fillers: [Int32] = []
        // Fill the accept queue (never accepted); later SYNs are dropped.
        for _ in 0..<4 {
            let c = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            _ = withUnsafePointer(to: &bound) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(c, $0, size) } }
            fillers.append(c)
        }
        usleep(100_000)
        self.fds = [listener] + fillers
        self.host = host
        self.port = Int(UInt16(bigEndian: bound.sin_port))
    }

    public var address: String { "\(host):\(port)" }

    public func release() { fds.forEach { close($0) } }
}

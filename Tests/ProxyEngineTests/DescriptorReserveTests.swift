import Foundation
import MQTTCodec
import NIOCore
@testable import ProxyEngine
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("Descriptor reserve: clients waiting when accept runs out are answered")
struct DescriptorReserveTests {
    /// A blocking client socket connected to 127.0.0.1:`port`.
    static func client(port: Int) throws -> CInt {
        let fd = socket(AF_INET, CInt(SOCK_STREAM.rawValue), 0)
        let address = try SocketAddress(ipAddress: "127.0.0.1", port: port)
        let result = address.withSockAddr { connect(fd, $0, socklen_t($1)) }
        #expect(result == 0)
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    static func send(_ fd: CInt, _ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) }
    }

    /// Everything the proxy side sent until it closed.
    static func readAll(_ fd: CInt) -> [UInt8] {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { break }
            out += buffer.prefix(n)
        }
        return out
    }

    @Test func eachWaitingClientHearsItsVersionsRefusalAndTheReserveIsKept() throws {
        let listening = try ListenSocket.open(try SocketAddress(ipAddress: "127.0.0.1", port: 0), backlog: 16,
                                              reusePort: false)
        defer { close(listening) }
        _ = fcntl(listening, F_SETFL, fcntl(listening, F_GETFL) | O_NONBLOCK)
        var bound = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &bound) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listening, $0, &length) }
        }
        let port = Int(UInt16(bigEndian: bound.sin_port))

        let reserve = DescriptorReserve()
        let v4 = try Self.client(port: port)
        let v5 = try Self.client(port: port)
        let silent = try Self.client(port: port)
        defer { [v4, v5, silent].forEach { close($0) } }
        Self.send(v4, Array(ConnectPacket(protocolLevel: 4, clientID: "a").encoded.readableBytesView))
        Self.send(v5, Array(ConnectPacket(protocolLevel: 5, clientID: "b").encoded.readableBytesView))

        #expect(reserve.isHeld)
        let (answered, closed) = reserve.shed(listening: listening)
        #expect(answered == 2)
        #expect(closed == 1)
        #expect(reserve.isHeld, "the reserve is open again")
        #expect(Self.readAll(v4) == [0x20, 0x02, 0x00, 0x03])
        #expect(Self.readAll(v5) == [0x20, 0x03, 0x00, 0x97, 0x00])
        #expect(Self.readAll(silent).isEmpty)
        // An empty backlog: nothing to do.
        #expect(reserve.shed(listening: listening) == (0, 0))
    }
}

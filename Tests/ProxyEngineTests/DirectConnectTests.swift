import Foundation
import NIOCore
import NIOPosix
@testable import ProxyEngine
import ProxyModel
import ProxyTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("DirectConnect: the plaintext broker connection without the bootstrap")
struct DirectConnectTests {
    /// A blocking listening socket on 127.0.0.1 with `backlog`, and its port.
    static func listener(backlog: Int32) throws -> (fd: CInt, port: Int) {
        let fd = try ListenSocket.open(try SocketAddress(ipAddress: "127.0.0.1", port: 0), backlog: backlog,
                                       reusePort: false)
        var bound = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &bound) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return (fd, Int(UInt16(bigEndian: bound.sin_port)))
    }

    /// A port nothing listens on (bound once, then closed).
    static func closedPort() throws -> Int {
        let (fd, port) = try listener(backlog: 1)
        close(fd)
        return port
    }

    @Test func theFirstBytesArriveAndTheChannelRelaysBothWays() async throws {
        let (listening, port) = try Self.listener(backlog: 8)
        defer { close(listening) }
        try await withEventLoopGroup { group in
            let loop = group.next()
            let first = ByteBuffer(bytes: [0x10, 0x02, 0xAA, 0xBB])
            let channel = try await DirectConnect.connect(
                to: try SocketAddress(ipAddress: "127.0.0.1", port: port), timeout: .seconds(2), first: first,
                on: loop).get()
            #expect(channel.isActive)
            let accepted = accept(listening, nil, nil)
            #expect(accepted >= 0)
            defer { close(accepted) }
            var timeout = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(accepted, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var got = [UInt8](repeating: 0, count: 16)
            let n = got.withUnsafeMutableBytes { recv(accepted, $0.baseAddress, $0.count, 0) }
            #expect(Array(got.prefix(max(n, 0))) == [0x10, 0x02, 0xAA, 0xBB])
            // Options the relay relies on were set before NIO registered the socket.
            let halfClosure = try await channel.getOption(.allowRemoteHalfClosure).get()
            #expect(halfClosure)
            try await channel.close()
        }
    }

    @Test func aClosedPortFailsAsRefusedNotAsATimeout() async throws {
        let port = try Self.closedPort()
        try await withEventLoopGroup { group in
            do {
                _ = try await DirectConnect.connect(
                    to: try SocketAddress(ipAddress: "127.0.0.1", port: port), timeout: .seconds(5),
                    first: ByteBuffer(bytes: [0x10, 0x00]), on: group.next()).get()
                Issue.record("connected to a closed port")
            } catch let error as UpstreamConnectError {
                // connect() itself says so, or NIO closes the socket on the error event first.
                #expect(["connection refused", "connection refused or reset while connecting"]
                    .contains(error.description), "\(error)")
            }
        }
    }

    @Test func aBrokerThatNeverCompletesTheHandshakeTimesOut() async throws {
        // A listener whose accept queue is full drops further SYNs: the connection stays in SYN_SENT.
        let (listening, port) = try Self.listener(backlog: 0)
        defer { close(listening) }
        let address = try SocketAddress(ipAddress: "127.0.0.1", port: port)
        var fillers: [CInt] = []
        defer { fillers.forEach { close($0) } }
        for _ in 0..<4 { fillers.append(try DirectConnect.openConnecting(address)) }
        try await withEventLoopGroup { group in
            do {
                _ = try await DirectConnect.connect(to: address, timeout: .milliseconds(300),
                                                    first: ByteBuffer(bytes: [0x10, 0x00]), on: group.next()).get()
                Issue.record("connected through a full accept queue")
            } catch ChannelError.connectTimeout(let limit) {
                #expect(limit == .milliseconds(300))
            }
        }
    }

    @Test func theRealConnectorSendsPrefaceAndReplayAndCountsTheReplay() async throws {
        let (listening, port) = try Self.listener(backlog: 8)
        defer { close(listening) }
        let body: JSONValue = [
            "plugins": ["mqtt-proxy": ["protocol_name": "MQTT", "protocol_level": 4]],
            "upstream": ["type": "roundrobin", "nodes": [["host": "127.0.0.1", "port": .int(port), "weight": 1]]],
        ]
        let table = try FrontendRig.table([("1", body)])
        let route = try #require(table.routes.first)
        try await withEventLoopGroup { group in
            let connection = try await NIOUpstreamConnector().connect(
                to: route.nodes[0], of: route, index: 0, timeout: .seconds(2),
                preface: ByteBuffer(string: "PROXY "), replay: ByteBuffer(bytes: [0x10, 0x00]), on: group.next()).get()
            #expect(connection.replayed == 2)
            let accepted = accept(listening, nil, nil)
            defer { close(accepted) }
            var timeout = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(accepted, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var got: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 16)
            while got.count < 8 {
                let n = chunk.withUnsafeMutableBytes { recv(accepted, $0.baseAddress, $0.count, 0) }
                guard n > 0 else { break }
                got += chunk.prefix(n)
            }
            #expect(got == Array("PROXY ".utf8) + [0x10, 0x00])
            try await connection.channel.close()
        }
    }
}

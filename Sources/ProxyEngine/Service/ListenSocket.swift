import NIOCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A listening socket made here rather than by NIO's `ServerBootstrap.bind`, so that the engine knows its
/// descriptor: when accepting fails for want of descriptors, `DescriptorReserve` takes the waiting clients off this
/// socket itself and answers them, instead of leaving them hanging in the backlog. NIO then adopts the socket
/// (`withBoundSocket`).
enum ListenSocket {
    /// Binds `address` (SO_REUSEADDR, TCP_NODELAY for the accepted sockets, SO_REUSEPORT when asked) and listens.
    static func open(_ address: SocketAddress, backlog: Int32, reusePort: Bool) throws -> CInt {
        #if canImport(Glibc)
        let kind = CInt(SOCK_STREAM.rawValue) | CInt(SOCK_CLOEXEC.rawValue)
        #else
        let kind = SOCK_STREAM
        #endif
        let fd = socket(address.protocol.rawValue, kind, 0)
        guard fd >= 0 else { throw IOError(errnoCode: errno, reason: "socket") }
        do {
            try option(fd, SOL_SOCKET, SO_REUSEADDR, "SO_REUSEADDR")
            try option(fd, CInt(IPPROTO_TCP), TCP_NODELAY, "TCP_NODELAY")
            if reusePort { try option(fd, SOL_SOCKET, SO_REUSEPORT, "SO_REUSEPORT") }
            let bound = address.withSockAddr { pointer, length in bind(fd, pointer, socklen_t(length)) }
            guard bound == 0 else { throw IOError(errnoCode: errno, reason: "bind(\(address))") }
            guard listen(fd, backlog) == 0 else { throw IOError(errnoCode: errno, reason: "listen") }
        } catch {
            close(fd)
            throw error
        }
        return fd
    }

    /// Listens again with `backlog`: NIO calls `listen` with its own default on the socket it adopts.
    static func restoreBacklog(_ fd: CInt, _ backlog: Int32) {
        _ = listen(fd, backlog)
    }

    private static func option(_ fd: CInt, _ level: CInt, _ name: CInt, _ text: String) throws {
        var one: CInt = 1
        guard setsockopt(fd, level, name, &one, socklen_t(MemoryLayout<CInt>.size)) == 0 else {
            throw IOError(errnoCode: errno, reason: "setsockopt(\(text))")
        }
    }
}

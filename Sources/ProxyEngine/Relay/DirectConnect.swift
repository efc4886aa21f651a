import NIOCore
import NIOPosix
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The plaintext broker connection without `ClientBootstrap`'s connect: a non-blocking `connect` made here, the
/// socket handed to NIO at once (`withConnectedSocket`), and the first bytes (PROXY header, buffered CONNECT)
/// written straight away. The kernel holds a write on a socket that is still connecting (EAGAIN) and fails it when
/// the connection is refused, so that write's completion is the connection's: no wait for writability, no
/// SO_ERROR, no interest changes or address look-ups in between — the bootstrap's path costs about a fifth of a
/// proxied connection's CPU (issue 16's profile).
///
/// Used only when there are bytes to send first and the node's address is resolved; TLS upstreams and plain TCP
/// routes whose client has sent nothing yet take the bootstrap.
enum DirectConnect {
    /// Connects to `address` on `loop`, writes `first`, and succeeds once the kernel took those bytes. Fails with
    /// `ChannelError.connectTimeout` after `timeout`, with `UpstreamConnectError` when the broker refuses or
    /// cannot be reached, and with the `IOError` of `socket()` itself (EMFILE: the proxy's own shortage).
    static func connect(to address: SocketAddress, timeout: TimeAmount, first: ByteBuffer,
                        on loop: EventLoop) -> EventLoopFuture<Channel>
    {
        let fd: CInt
        do {
            fd = try openConnecting(address)
        } catch {
            return loop.makeFailedFuture(error)
        }
        return ClientBootstrap(group: loop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try ProxyEngine.setSocketOptions(channel, noDelay: false) }
            }
            .withConnectedSocket(fd)
            .flatMap { channel in
                let promise = loop.makePromise(of: Channel.self)
                let limit = loop.scheduleTask(in: timeout) {
                    promise.fail(ChannelError.connectTimeout(timeout))
                    channel.close(promise: nil)
                }
                let written = loop.makePromise(of: Void.self)
                channel.writeAndFlush(first, promise: written)
                written.futureResult.whenComplete { result in
                    limit.cancel()
                    switch result {
                    case .success:
                        promise.succeed(channel)
                    case .failure(let error):
                        channel.close(promise: nil)
                        promise.fail(UpstreamConnectError(error))
                    }
                }
                return promise.futureResult
            }
    }

    /// A non-blocking socket with `connect` started (or, on loopback, often already done).
    static func openConnecting(_ address: SocketAddress) throws -> CInt {
        #if canImport(Glibc)
        let kind = CInt(SOCK_STREAM.rawValue) | CInt(SOCK_NONBLOCK.rawValue) | CInt(SOCK_CLOEXEC.rawValue)
        #else
        let kind = SOCK_STREAM
        #endif
        let fd = socket(address.protocol.rawValue, kind, 0)
        guard fd >= 0 else { throw IOError(errnoCode: errno, reason: "socket") }
        #if !canImport(Glibc)
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        #endif
        let result = address.withSockAddr { pointer, length in systemConnect(fd, pointer, socklen_t(length)) }
        if result != 0 && errno != EINPROGRESS {
            let code = errno
            close(fd)
            throw UpstreamConnectError(errno: code)
        }
        return fd
    }
}

#if canImport(Glibc)
private let systemConnect = Glibc.connect
#else
private let systemConnect = Darwin.connect
#endif

/// A broker connection that did not come about: refused, unreachable, reset while connecting.
struct UpstreamConnectError: Error, CustomStringConvertible {
    let description: String

    init(errno code: CInt) {
        self.init(text: String(cString: strerror(code)).lowercased())
    }

    private init(text: String) {
        description = text
    }

    /// The first write's failure on a connecting socket: its errno when it has one.
    init(_ error: Error) {
        if let io = error as? IOError {
            self.init(errno: io.errnoCode)
        } else if let already = error as? UpstreamConnectError {
            self = already
        } else if let channel = error as? ChannelError, channel == .ioOnClosedChannel || channel == .eof {
            // NIO closed the socket on its error event before the write could fail with the errno itself.
            self.init(text: "connection refused or reset while connecting")
        } else {
            self.init(text: "\(error)")
        }
    }
}

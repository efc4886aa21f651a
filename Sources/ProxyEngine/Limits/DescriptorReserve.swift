import MQTTCodec
import NIOConcurrencyHelpers
import NIOCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One descriptor kept open for the moment the process runs out: when `accept` fails with EMFILE, the clients
/// already in the listening socket's backlog would wait there, unanswered, until some descriptor is freed. The
/// reserve is closed, each waiting client is accepted on the slot it frees, told in MQTT that the server is
/// unavailable (when its CONNECT has arrived; otherwise the connection is just closed) and closed, and the
/// reserve is opened again.
final class DescriptorReserve: Sendable {
    private let descriptor = NIOLockedValueBox<CInt>(-1)
    /// Clients taken off a backlog per shortage, at most (the accept backoff then waits before the next round).
    static let batch = 256
    /// Longest wait for one client's CONNECT, and for all of one shortage's, in milliseconds.
    static let waitPerClientMilliseconds = 10
    static let waitBudgetMilliseconds = 50

    init() {
        descriptor.withLockedValue { $0 = Self.openReserve() }
    }

    deinit {
        let fd = descriptor.withLockedValue { $0 }
        if fd >= 0 { close(fd) }
    }

    /// Whether the reserve descriptor is open (it is, except during `shed`, or when reopening it failed).
    var isHeld: Bool {
        descriptor.withLockedValue { $0 >= 0 && fcntl($0, F_GETFD) != -1 }
    }

    private static func openReserve() -> CInt {
        #if canImport(Glibc)
        open("/dev/null", O_RDONLY | O_CLOEXEC)
        #else
        open("/dev/null", O_RDONLY)
        #endif
    }

    /// Takes the clients waiting on `listening` off it with the reserve's slot; returns how many were answered
    /// and how many closed unread.
    func shed(listening: CInt) -> (answered: Int, closed: Int) {
        descriptor.withLockedValue { reserve -> (Int, Int) in
            if reserve >= 0 { close(reserve) }
            var answered = 0
            var closed = 0
            // A client's CONNECT follows its handshake closely but may not be here yet: each may be waited for
            // briefly, within a budget per shortage (this runs on an event loop).
            var budget = Self.waitBudgetMilliseconds
            for _ in 0..<Self.batch {
                // The listening socket is non-blocking (NIO made it so): an empty backlog ends the loop.
                let fd = accept(listening, nil, nil)
                guard fd >= 0 else { break }
                var ready = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                let wait = min(budget, Self.waitPerClientMilliseconds)
                let started = NIODeadline.now()
                _ = poll(&ready, 1, CInt(wait))
                budget -= min(budget, Int((NIODeadline.now() - started).nanoseconds / 1_000_000))
                if Self.refuse(fd) { answered += 1 } else { closed += 1 }
                close(fd)
            }
            reserve = Self.openReserve()
            return (answered, closed)
        }
    }

    /// Reads what the client sent so far without waiting; a CONNECT (or its start) gets the refusal its MQTT
    /// version understands. True when an answer was written.
    static func refuse(_ fd: CInt) -> Bool {
        var bytes = [UInt8](repeating: 0, count: 512)
        let count = bytes.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, CInt(MSG_DONTWAIT)) }
        guard count > 0 else { return false }
        let peek = ConnectDecoder.peekProtocol(ByteBuffer(bytes: bytes.prefix(count)))
        guard case .protocol(_, let level) = peek else { return false }
        let answer = ConnackEncoder.reject(forClientLevel: level, v3: .serverUnavailable, v5: .quotaExceeded)
        let sent = answer.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, CInt(MSG_DONTWAIT | MSG_NOSIGNAL)) }
        return sent == answer.count
    }
}

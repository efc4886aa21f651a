import Foundation
import NIOConcurrencyHelpers
import ProxyModel

#if canImport(Glibc)
import Glibc
#endif

/// Resolves node host names to one address each, off the event loops, with a cache refreshed on a timer.
///
/// IPv4 is preferred when a name has both, like APISIX's resolver; a name that does not resolve is left out.
public final class NodeResolver: Sendable {
    /// Either an address or the reason the name did not resolve.
    public enum Outcome: Sendable, Equatable {
        case address(String)
        case failure(String)
    }

    private let cache = NIOLockedValueBox([String: Outcome]())
    private let lookup: @Sendable (String) -> Outcome

    /// `lookup` defaults to getaddrinfo; tests may pass their own table.
    public init(lookup: (@Sendable (String) -> Outcome)? = nil) {
        self.lookup = lookup ?? NodeResolver.getaddrinfoLookup
    }

    /// Whether `host` needs resolving (it is not an IP literal).
    public static func isName(_ host: String) -> Bool { IPAddressBytes(host) == nil }

    /// The cached outcome for `host`, resolving it now (blocking this thread) when not cached.
    public func resolve(_ host: String) -> Outcome {
        if !NodeResolver.isName(host) { return .address(host) }
        if let hit = cache.withLockedValue({ $0[host] }) { return hit }
        let outcome = lookup(host)
        cache.withLockedValue { $0[host] = outcome }
        return outcome
    }

    /// Resolves every cached name again; returns true when any answer changed.
    public func refresh() -> Bool {
        let names = cache.withLockedValue { Array($0.keys) }
        var changed = false
        for name in names {
            let outcome = lookup(name)
            let old = cache.withLockedValue { c -> Outcome? in
                let old = c[name]
                c[name] = outcome
                return old
            }
            if old != outcome { changed = true }
        }
        return changed
    }

    private static func text(_ buf: [CChar]) -> String {
        String(decoding: buf.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Resolves with getaddrinfo, first IPv4 answer, else first IPv6.
    static func getaddrinfoLookup(_ host: String) -> Outcome {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, nil, &hints, &result)
        guard rc == 0, let first = result else {
            return .failure("failed to parse domain: \(host), error: \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(result) }
        var v4: String?
        var v6: String?
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let ai = cursor {
            if let sa = ai.pointee.ai_addr {
                var buf = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
                if ai.pointee.ai_family == AF_INET, v4 == nil {
                    sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
                        var addr = sin.pointee.sin_addr
                        inet_ntop(AF_INET, &addr, &buf, socklen_t(buf.count))
                    }
                    v4 = NodeResolver.text(buf)
                } else if ai.pointee.ai_family == AF_INET6, v6 == nil {
                    sa.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { sin6 in
                        var addr = sin6.pointee.sin6_addr
                        inet_ntop(AF_INET6, &addr, &buf, socklen_t(buf.count))
                    }
                    v6 = NodeResolver.text(buf)
                }
            }
            cursor = ai.pointee.ai_next
        }
        if let a = v4 ?? v6 { return .address(a) }
        return .failure("failed to parse domain: \(host), error: no address")
    }
}

/// A host and a TCP port as APISIX writes node keys and listen addresses: `10.0.0.1:1883`, `broker-1:1883`,
/// `[::1]:1883`. The one parser and formatter of `host:port` text: the model, the balancer and the CLI use it.
public struct HostPort: Sendable, Hashable, CustomStringConvertible {
    /// An IP address (IPv6 without brackets) or a DNS name.
    public var host: String
    /// 1…65535.
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port` or `[ipv6]:port`. Nil when the host is empty, the port is not a number in 1…65535 (0
    /// too with `allowingAnyPort`: a listener's "any free port"), or an IPv6 address is not bracketed (`::1:1883`
    /// could be read two ways).
    public init?(_ text: some StringProtocol, allowingAnyPort: Bool = false) {
        let host: Substring
        let portText: Substring
        let text = Substring(text)
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":"), host.contains(":") else { return nil }
            portText = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            if host.contains(":") { return nil }
        }
        guard !host.isEmpty, portText.allSatisfy({ $0 >= "0" && $0 <= "9" }), let port = Int(portText),
              HostPort.ports.contains(port) || (allowingAnyPort && port == 0)
        else { return nil }
        self.init(host: String(host), port: port)
    }

    /// The ports a node or listener may use.
    public static let ports = 1...65_535

    /// `host:port`, with an IPv6 host in brackets.
    public var description: String { HostPort.format(host: host, port: port) }

    /// `host:port`, with an IPv6 host in brackets (a host already in brackets is left as it is).
    public static func format(host: String, port: Int) -> String {
        host.contains(":") && !host.hasPrefix("[") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

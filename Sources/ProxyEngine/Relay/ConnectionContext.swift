import Logging
import NIOCore
import ProxyModel

/// What every accepted connection needs from the engine.
struct ConnectionEnvironment: Sendable {
    let registry: ConnectionRegistry
    let settings: EngineSettings
    let logger: Logger
    /// One idle timer per event loop for all its relays.
    let idleWatches: IdleWatches
    /// The current route table (read once per accepted connection).
    let table: @Sendable () -> RouteTable
    /// Opens connections to brokers.
    let connector: any UpstreamConnecting
    /// Where passive health outcomes go; nil in tests that drive a handler alone.
    let health: HealthMonitor?
    /// How relays end on shutdown, and whether it is happening.
    let shutdown: ShutdownState
}

/// The addresses of an accepted connection, in the forms matching and hashing need.
struct ConnectionAddresses: Sendable {
    var remoteIP: String
    var remotePort: Int
    var localIP: String
    var localPort: Int
    var remoteBytes: IPAddressBytes?
    var localBytes: IPAddressBytes?

    init(channel: Channel) {
        let remote = channel.remoteAddress
        let local = channel.localAddress
        remoteIP = remote?.ipAddress ?? "?"
        remotePort = remote?.port ?? 0
        localIP = local?.ipAddress ?? "?"
        localPort = local?.port ?? 0
        remoteBytes = remote.flatMap(ConnectionAddresses.bytes)
        localBytes = local.flatMap(ConnectionAddresses.bytes)
    }

    /// The address's raw bytes, straight from the socket address (no parsing of its text).
    static func bytes(_ address: SocketAddress) -> IPAddressBytes? {
        switch address {
        case .v4(let a):
            return withUnsafeBytes(of: a.address.sin_addr) { IPAddressBytes(bytes: Array($0)) }
        case .v6(let a):
            return withUnsafeBytes(of: a.address.sin6_addr) { IPAddressBytes(bytes: Array($0)) }
        case .unixDomainSocket:
            return nil
        }
    }

    /// The value of a stream variable usable as a chash key.
    func variable(_ name: String, clientID: String?) -> String? {
        switch name {
        case "mqtt_client_id": return clientID
        case "remote_addr": return remoteIP
        case "remote_port": return String(remotePort)
        case "server_addr": return localIP
        case "server_port": return String(localPort)
        default: return nil
        }
    }

    /// The chash key of a connection, falling back to the client address like APISIX when it is empty.
    func hashKey(for upstream: Upstream, clientID: String?) -> (key: String, fellBack: Bool) {
        var value: String?
        if let key = upstream.key {
            switch upstream.hashOn {
            case .vars:
                value = variable(key, clientID: clientID)
            case .varsCombinations:
                value = expandCombination(key, clientID: clientID)
            case .header, .cookie, .consumer:
                value = nil
            }
        }
        if let value, !value.isEmpty { return (value, false) }
        return (remoteIP, true)
    }

    /// `$mqtt_client_id-$remote_addr` → the variables' values in place; unknown or empty variables give "".
    private func expandCombination(_ template: String, clientID: String?) -> String? {
        var out = ""
        var i = template.startIndex
        while i < template.endIndex {
            if template[i] == "$" {
                var j = template.index(after: i)
                while j < template.endIndex, template[j].isLetter || template[j].isNumber || template[j] == "_" {
                    j = template.index(after: j)
                }
                let name = String(template[template.index(after: i)..<j])
                out += variable(name, clientID: clientID) ?? ""
                i = j
            } else {
                out.append(template[i])
                i = template.index(after: i)
            }
        }
        return out
    }
}

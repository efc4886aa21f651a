import Logging
import ProxyModel
import RouteStore

/// `console --attach etcd`: the admin APIs of every instance registered under `{prefix}/data_plane/server_info/`.
public enum FleetDiscovery {
    /// The admin API addresses the registered instances gave (`http://ip:port`). An instance whose admin API listens
    /// on every address (`0.0.0.0`, `::`) is reached on loopback: its own registration does not say more.
    public static func urls(etcd: EtcdConfig, trustedCA: String?) async throws(StoreError) -> [String] {
        let store: EtcdStore
        do {
            store = try EtcdStore(config: etcd, trustedCA: trustedCA, logger: Logger(label: "mqtt-proxy.attach"))
        } catch {
            throw .unavailable("etcd: \(error)")
        }
        return try await store.fleet().compactMap(\.admin).map(url).sorted()
    }

    /// `http://ip:port` for an admin address as registered.
    static func url(_ admin: String) -> String {
        guard let endpoint = HostPort(admin) else { return "http://" + admin }
        let host = switch endpoint.host {
        case "0.0.0.0": "127.0.0.1"
        case "::": "::1"
        default: endpoint.host
        }
        return "http://" + HostPort.format(host: host, port: endpoint.port)
    }
}

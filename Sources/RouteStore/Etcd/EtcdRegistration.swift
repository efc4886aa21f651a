import Foundation
import Logging
import ProxyModel
import ServiceLifecycle

/// What an instance tells the fleet about itself under `{prefix}/data_plane/server_info/{id}`: APISIX's fields
/// (`id`, `hostname`, `version`, `boot_time`, `etcd_version`) plus where it listens and its admin API.
public struct FleetMember: Sendable, Hashable {
    public var id: String
    public var hostname: String
    public var version: String
    /// Unix seconds.
    public var bootTime: Int
    public var listeners: [String]
    /// `ip:port` of its admin API.
    public var admin: String?

    public init(id: String, hostname: String, version: String, bootTime: Int, listeners: [String], admin: String?) {
        self.id = id
        self.hostname = hostname
        self.version = version
        self.bootTime = bootTime
        self.listeners = listeners
        self.admin = admin
    }

    func json(etcdVersion: String) -> JSONValue {
        [
            "id": .string(id), "hostname": .string(hostname), "version": .string(version), "boot_time": .int(bootTime),
            "etcd_version": .string(etcdVersion), "listeners": .array(listeners.map(JSONValue.string)),
            "admin": admin.map(JSONValue.string) ?? .null, "up_since": .int(bootTime),
        ]
    }

    /// A member from its stored value (as `console --attach etcd` reads the fleet).
    public init?(json: JSONValue) {
        guard let id = json["id"]?.stringValue else { return nil }
        self.init(id: id, hostname: json["hostname"]?.stringValue ?? "?", version: json["version"]?.stringValue ?? "?",
                  bootTime: json["boot_time"]?.intValue ?? 0,
                  listeners: json["listeners"]?.arrayValue?.compactMap(\.stringValue) ?? [],
                  admin: json["admin"]?.stringValue)
    }
}

/// Keeps this instance registered in etcd under a lease (60 s, renewed every 20 s, granted again when lost), as
/// APISIX's server-info does, so a console can list the fleet; the entry is revoked on a clean stop and expires
/// on its own after a crash.
public struct EtcdRegistration: Service {
    let client: EtcdClient
    let keyPrefix: String
    let member: @Sendable () async -> FleetMember?
    let logger: Logger
    let ttl = 60

    /// Registers the instance `id` once `addresses` tells where it listens (the bound listener and admin API
    /// addresses); its host name, version and start time come with it.
    public init(store: EtcdStore, id: String,
                addresses: @escaping @Sendable () async -> (listeners: [String], admin: String?))
    {
        client = store.client
        keyPrefix = store.keys.prefix
        logger = store.logger
        let booted = Int(Date().timeIntervalSince1970)
        member = {
            let (listeners, admin) = await addresses()
            return FleetMember(id: id, hostname: ProcessInfo.processInfo.hostName, version: ProductVersion.current,
                               bootTime: booted, listeners: listeners, admin: admin)
        }
    }

    public func run() async throws {
        guard let member = await member() else { return }
        let key = "\(keyPrefix)/data_plane/server_info/\(member.id)"
        var lease: String?
        await withGracefulShutdownHandler {
            while !Task.isCancelled {
                do throws(EtcdError) {
                    if let current = lease, try await client.keepAlive(lease: current) {
                        // Renewed.
                    } else {
                        let granted = try await client.grantLease(ttl: ttl)
                        let version = await client.version() ?? "unknown"
                        try await client.put(key, Array(member.json(etcdVersion: version).jsonText.utf8), lease: granted)
                        lease = granted
                        logger.notice("registered in etcd as \(key)")
                    }
                } catch {
                    logger.warning("fleet registration in etcd failed: \(error); trying again")
                    lease = nil
                }
                try? await Task.sleep(nanoseconds: UInt64(ttl / 3) * 1_000_000_000)
            }
        } onGracefulShutdown: {}
        if let lease { try? await client.revoke(lease: lease) }
    }
}

extension EtcdStore {
    /// Every instance registered under `{prefix}/data_plane/server_info/`.
    public func fleet() async throws(StoreError) -> [FleetMember] {
        do {
            let (_, kvs) = try await client.range(prefix: keys.prefix + "/data_plane/server_info/")
            return kvs.compactMap { kv in (try? JSONParser.parse(kv.value)).flatMap(FleetMember.init(json:)) }
        } catch {
            throw Self.storeError(error)
        }
    }
}

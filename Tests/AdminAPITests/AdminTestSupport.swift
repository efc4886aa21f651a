import AdminAPI
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Prometheus
import ProxyEngine
import ProxyModel
import ProxyTestSupport
import RouteStore

let adminKey = "edd1c9f034335f136f87ad84b625c8f1"
let viewerKey = "4054f7cf07e344346cd3f287985e76a2"

/// The admin router over a temp store (and optionally a live engine), driven in-process.
struct AdminRig {
    let store: FileStore
    let directory: String
    let app: Application<RouterResponder<AdminContext>>

    init(settings: AdminSettings? = nil, engine: ProxyEngine? = nil, metrics: PrometheusCollectorRegistry? = nil)
        async throws
    {
        directory = NSTemporaryDirectory() + "mqtt-proxy-admin-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        store = FileStore(path: directory + "/apisix.yaml")
        try await store.load()
        var admin = AdminConfig()
        admin.keys = [AdminKey(name: "admin", key: adminKey, role: .admin),
                      AdminKey(name: "viewer", key: viewerKey, role: .viewer)]
        let router = AdminServer.router(settings: settings ?? AdminSettings(admin: admin, bodyLimit: 4096),
                                        store: store, engine: engine, metrics: metrics)
        app = Application(router: router)
    }

    static func settings(_ change: (inout AdminSettings) -> Void) -> AdminSettings {
        var admin = AdminConfig()
        admin.keys = [AdminKey(name: "admin", key: adminKey, role: .admin),
                      AdminKey(name: "viewer", key: viewerKey, role: .viewer)]
        var s = AdminSettings(admin: admin, bodyLimit: 4096)
        change(&s)
        return s
    }

    func cleanup() { try? FileManager.default.removeItem(atPath: directory) }
}

/// A response reduced to what the tests look at.
struct Reply: Sendable {
    var status: HTTPResponse.Status
    var text: String
    var json: JSONValue? { try? JSONParser.parse(text) }
}

extension TestClientProtocol {
    /// Sends a request with the admin key (unless `key` says otherwise) and a raw or JSON body.
    func call(_ method: HTTPRequest.Method, _ uri: String, key: String? = adminKey, body: String? = nil,
              headers extra: HTTPFields = [:]) async throws -> Reply
    {
        var headers = extra
        if let key { headers[HTTPField.Name("X-API-KEY")!] = key }
        return try await execute(uri: uri, method: method, headers: headers,
                                 body: body.map { ByteBuffer(string: $0) }) { response in
            Reply(status: response.status, text: String(buffer: response.body))
        }
    }

    func call(_ method: HTTPRequest.Method, _ uri: String, json: JSONValue, key: String? = adminKey) async throws
        -> Reply
    {
        try await call(method, uri, key: key, body: json.jsonText)
    }
}

/// The seed's roundrobin route body, cut from the plugin document's curl command.
let seedRoundRobin: String = {
    let command = SeedCommands.putRoundRobin
    let start = command.index(after: command.firstIndex(of: "{")!)
    return "{" + command[start...].dropLast()
}()

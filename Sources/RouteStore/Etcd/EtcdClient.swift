import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOSSL
import ProxyModel
import Synchronization

/// Why an etcd request failed.
public enum EtcdError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No endpoint answered (connection refused, timeout, TLS).
    case unreachable(String)
    /// etcd answered with an error (`{"error": …, "code": …}`).
    case server(status: Int, code: Int?, message: String)
    /// The watch's start revision was compacted; reload at (or after) `compactRevision`.
    case compacted(compactRevision: Int)
    /// The answer was not the JSON expected.
    case malformed(String)

    public var description: String {
        switch self {
        case .unreachable(let m): "etcd unreachable: \(m)"
        case .server(let status, let code, let message): "etcd answered \(status)\(code.map { " (code \($0))" } ?? ""): \(message)"
        case .compacted(let r): "etcd compacted the history up to revision \(r)"
        case .malformed(let m): "unexpected answer from etcd: \(m)"
        }
    }
}

/// One key-value pair as etcd returns it.
public struct EtcdKV: Sendable, Hashable {
    public var key: String
    public var value: [UInt8]
    public var createRevision: Int
    public var modRevision: Int
}

/// One change from a watch.
public struct EtcdEvent: Sendable, Hashable {
    public enum Kind: Sendable, Hashable { case put, delete }
    public var kind: Kind
    /// For a delete, only the key and the delete's revision (`modRevision`) are set.
    public var kv: EtcdKV
}

/// etcd v3 through its JSON gateway (`/v3/kv/range`, `/v3/kv/put`, `/v3/kv/txn`, `/v3/kv/deleterange`,
/// streaming `/v3/watch`, leases), the way APISIX's lua-resty-etcd talks to it: keys and values base64, int64s as
/// strings. Endpoints are tried in turn; a user and password get a token, renewed when etcd says it expired.
public final class EtcdClient: Sendable {
    let endpoints: [String]
    let timeout: TimeAmount
    let http: HTTPClient
    let logger: Logger
    private let credentials: (user: String, password: String)?
    private let state = Mutex<(current: Int, token: String?)>((0, nil))

    /// A client of `config.hosts`.
    public init(config: EtcdConfig, trustedCA: String? = nil, logger: Logger) throws {
        endpoints = config.hosts.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        timeout = .nanoseconds(Int64(config.timeout * 1e9))
        self.logger = logger
        credentials = config.user.flatMap { user in config.password.map { (user, $0) } }
        http = try EtcdClient.httpClient(config: config, trustedCA: trustedCA)
    }

    /// The HTTP clients, one per TLS set-up, kept for the life of the process: a store can be dropped at any time
    /// (a failed start, a test) and AsyncHTTPClient wants every client it makes shut down first.
    private static let clients = Mutex<[String: HTTPClient]>([:])

    private static func httpClient(config: EtcdConfig, trustedCA: String?) throws -> HTTPClient {
        var http = HTTPClient.Configuration()
        http.timeout = .init(connect: .nanoseconds(Int64(config.timeout * 1e9)), read: nil)
        let secure = config.hosts.contains { $0.hasPrefix("https://") }
        let key = secure ? [config.tlsCert, config.tlsKey, trustedCA, "\(config.tlsVerify)"].map { $0 ?? "-" }
            .joined(separator: "|") : "plain \(config.timeout)"
        if let existing = clients.withLock({ $0[key] }) { return existing }
        if secure {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.certificateVerification = config.tlsVerify ? .fullVerification : .none
            if let ca = trustedCA { tls.trustRoots = .file(ca) }
            if let cert = config.tlsCert, let keyFile = config.tlsKey {
                tls.certificateChain = try NIOSSLCertificate.fromPEMFile(cert).map { .certificate($0) }
                tls.privateKey = .file(keyFile)
            }
            http.tlsConfiguration = tls
        }
        return clients.withLock { c in
            if let existing = c[key] { return existing }
            let made = HTTPClient(eventLoopGroupProvider: .singleton, configuration: http)
            c[key] = made
            return made
        }
    }

    /// The endpoint requests go to now.
    public var currentEndpoint: String { endpoints[state.withLock { $0.current } % max(1, endpoints.count)] }

    // MARK: - KV

    /// Every pair under `prefix` (a range on the prefix, as etcd's clientv3 does), and the store revision.
    public func range(prefix: String) async throws(EtcdError) -> (revision: Int, kvs: [EtcdKV]) {
        let body: JSONValue = ["key": .string(Self.b64(prefix)), "range_end": .string(Self.b64(Self.rangeEnd(prefix)))]
        let answer = try await call("/v3/kv/range", body)
        let kvs = try (answer["kvs"]?.arrayValue ?? []).map { item throws(EtcdError) in try Self.kv(item) }
        return (try Self.revision(answer), kvs)
    }

    /// One pair, or nil.
    public func get(_ key: String) async throws(EtcdError) -> (revision: Int, kv: EtcdKV?) {
        let answer = try await call("/v3/kv/range", ["key": .string(Self.b64(key))])
        return (try Self.revision(answer), try answer["kvs"]?.arrayValue?.first.map { item throws(EtcdError) in try Self.kv(item) })
    }

    /// Puts `value` at `key` (with `lease`, when given); returns the revision of the write.
    @discardableResult
    public func put(_ key: String, _ value: [UInt8], lease: String? = nil) async throws(EtcdError) -> Int {
        var body: JSONValue = ["key": .string(Self.b64(key)), "value": .string(Data(value).base64EncodedString())]
        if let lease { body["lease"] = .string(lease) }
        return try Self.revision(try await call("/v3/kv/put", body))
    }

    /// A transaction: when every comparison holds, `success` runs, else `failure`; returns whether it succeeded
    /// and the revision after it.
    public func txn(compare: [JSONValue], success: [JSONValue], failure: [JSONValue] = []) async throws(EtcdError)
        -> (succeeded: Bool, revision: Int)
    {
        let answer = try await call("/v3/kv/txn", ["compare": .array(compare), "success": .array(success),
                                                    "failure": .array(failure)])
        return (answer["succeeded"]?.boolValue ?? false, try Self.revision(answer))
    }

    // MARK: - Leases

    /// Grants a lease of `ttl` seconds; returns its id (a decimal string).
    public func grantLease(ttl: Int) async throws(EtcdError) -> String {
        let answer = try await call("/v3/lease/grant", ["TTL": .int(ttl)])
        guard let id = answer["ID"]?.stringValue else { throw .malformed("lease grant without an ID") }
        return id
    }

    /// Renews a lease; false when it is gone (expired or revoked).
    public func keepAlive(lease: String) async throws(EtcdError) -> Bool {
        let answer = try await call("/v3/lease/keepalive", ["ID": .string(lease)])
        return answer["result"]?["TTL"] != nil
    }

    /// Revokes a lease (its keys are deleted).
    public func revoke(lease: String) async throws(EtcdError) {
        _ = try await call("/v3/lease/revoke", ["ID": .string(lease)])
    }

    /// etcd's version (`/version`: the cluster's, else the server's).
    public func version() async -> String? {
        var request = HTTPClientRequest(url: currentEndpoint + "/version")
        request.method = .GET
        guard let response = try? await http.execute(request, timeout: timeout),
              let body = try? await response.body.collect(upTo: 64 * 1024),
              let json = try? JSONParser.parse(Array(body.readableBytesView))
        else { return nil }
        return json["etcdcluster"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? json["etcdserver"]?.stringValue
    }

    // MARK: - Requests

    /// POSTs `body` to `path`, trying each endpoint once; an expired token is renewed once.
    func call(_ path: String, _ body: JSONValue) async throws(EtcdError) -> JSONValue {
        var lastError = EtcdError.unreachable("no endpoint")
        for _ in 0..<max(1, endpoints.count) {
            let endpoint = currentEndpoint
            do {
                return try await post(endpoint + path, body, renewToken: true)
            } catch {
                guard case .unreachable = error else { throw error }
                lastError = error
                logger.debug("etcd \(endpoint) unreachable: \(error); trying the next endpoint")
                state.withLock { $0.current += 1 }
            }
        }
        throw lastError
    }

    private func post(_ url: String, _ body: JSONValue, renewToken: Bool) async throws(EtcdError) -> JSONValue {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        if let token = try await token(for: url) { request.headers.add(name: "Authorization", value: token) }
        request.body = .bytes(ByteBuffer(string: body.jsonText))
        let status: Int
        let bytes: [UInt8]
        do {
            let response = try await http.execute(request, timeout: timeout)
            status = Int(response.status.code)
            bytes = Array(try await response.body.collect(upTo: 64 * 1024 * 1024).readableBytesView)
        } catch {
            throw .unreachable("\(url): \(error)")
        }
        let json = (try? JSONParser.parse(bytes)) ?? .null
        guard (200..<300).contains(status) else {
            let message = json["error"]?.stringValue ?? json["message"]?.stringValue ?? String(decoding: bytes, as: UTF8.self)
            if status == 401, renewToken, credentials != nil {
                state.withLock { $0.token = nil }
                return try await post(url, body, renewToken: false)
            }
            throw .server(status: status, code: json["code"]?.intValue, message: message)
        }
        return json
    }

    /// The auth token (fetched on first use when a user and password are set).
    func token(for url: String) async throws(EtcdError) -> String? {
        guard let credentials else { return nil }
        if let token = state.withLock({ $0.token }) { return token }
        let base = url.range(of: "/v3/").map { String(url[..<$0.lowerBound]) } ?? currentEndpoint
        var request = HTTPClientRequest(url: base + "/v3/auth/authenticate")
        request.method = .POST
        let body: JSONValue = ["name": .string(credentials.user), "password": .string(credentials.password)]
        request.body = .bytes(ByteBuffer(string: body.jsonText))
        let answer: JSONValue
        do {
            let response = try await http.execute(request, timeout: timeout)
            let bytes = Array(try await response.body.collect(upTo: 1024 * 1024).readableBytesView)
            answer = (try? JSONParser.parse(bytes)) ?? .null
            guard response.status.code == 200, let token = answer["token"]?.stringValue else {
                throw EtcdError.server(status: Int(response.status.code), code: answer["code"]?.intValue,
                                       message: "authentication failed: \(answer["error"]?.stringValue ?? "?")")
            }
            state.withLock { $0.token = token }
            return token
        } catch let error as EtcdError {
            throw error
        } catch {
            throw .unreachable("\(base): \(error)")
        }
    }

    // MARK: - Encoding

    static func b64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }

    static func b64(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }

    /// The end of the range of keys starting with `prefix`: its last byte plus one (carrying past 0xFF).
    static func rangeEnd(_ prefix: String) -> [UInt8] {
        var bytes = Array(prefix.utf8)
        while let last = bytes.last {
            if last < 0xFF {
                bytes[bytes.count - 1] = last + 1
                return bytes
            }
            bytes.removeLast()
        }
        return [0]
    }

    static func revision(_ answer: JSONValue) throws(EtcdError) -> Int {
        guard let text = answer["header"]?["revision"]?.stringValue, let revision = Int(text) else {
            throw .malformed("no header.revision")
        }
        return revision
    }

    static func kv(_ item: JSONValue) throws(EtcdError) -> EtcdKV {
        guard let key = item["key"]?.stringValue.flatMap({ Data(base64Encoded: $0) }) else {
            throw .malformed("a kv without a key")
        }
        let value = item["value"]?.stringValue.flatMap { Data(base64Encoded: $0) } ?? Data()
        return EtcdKV(key: String(decoding: key, as: UTF8.self), value: Array(value),
                      createRevision: Int(item["create_revision"]?.stringValue ?? "") ?? 0,
                      modRevision: Int(item["mod_revision"]?.stringValue ?? "") ?? 0)
    }
}

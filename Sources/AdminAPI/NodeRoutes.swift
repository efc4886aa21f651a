import Foundation
import Hummingbird
import ProxyControl
import ProxyModel

/// `/v1/nodes`: every broker node's health and drain; `POST`/`DELETE /v1/nodes/{ip:port}/drain` start and end a
/// drain (`POST …?dry_run=true` only tells where its clients would go) (admin keys only: the auth middleware refuses viewers anything but GET).
struct NodeRoutes: Sendable {
    let engine: any EngineControl

    func register(on router: Router<AdminContext>) {
        router.get("/v1/nodes") { _, _ in
            let nodes = engine.snapshot().health.map(SnapshotJSON.health)
            return JSONResponse.make(.ok, ["nodes": .array(nodes), "total": .int(nodes.count)])
        }
        router.get("/v1/nodes/:node") { _, context in
            let node = try NodeRoutes.node(context)
            guard let health = engine.snapshot().health.first(where: { $0.node == node }) else {
                throw AdminError(.notFound, "no stream route uses node \(node)")
            }
            return JSONResponse.make(.ok, ["node": SnapshotJSON.health(health)])
        }
        router.post("/v1/nodes/:node/drain") { request, context in
            let node = try NodeRoutes.node(context)
            let (rate, reference) = try await NodeRoutes.drainRequest(request)
            if request.uri.queryParameters.get("dry_run") == "true" {
                // Where its chash-placed clients would go; nothing is drained.
                let preview = await engine.previewDrain(node: node)
                return JSONResponse.make(.ok, ["dry_run": true, "node": .string(node),
                                               "rebalance": SnapshotJSON.rebalance(preview)])
            }
            let outcome: Result<NodeHealth, ControlError>
            do throws(ControlError) {
                outcome = .success(try await engine.drain(node: node, evictPerSecond: rate, serverReference: reference))
            } catch {
                outcome = .failure(error)
            }
            switch outcome {
            case .success(let health):
                return JSONResponse.make(.ok, ["node": SnapshotJSON.health(health)])
            case .failure(let error):
                switch error {
                case .unknownNode: throw AdminError(.notFound, error.description)
                case .invalid, .unreachable: throw AdminError(.badRequest, error.description)
                }
            }
        }
        router.delete("/v1/nodes/:node/drain") { _, context in
            let node = try NodeRoutes.node(context)
            guard await engine.undrain(node: node) else { throw AdminError(.notFound, "node \(node) is not drained") }
            let health = engine.snapshot().health.first { $0.node == node }
            return JSONResponse.make(.ok, ["node": health.map(SnapshotJSON.health) ?? .null, "drained": false])
        }
    }

    /// The `ip:port` of the path, percent-decoded (`[::1]:1883` arrives as `%5B::1%5D:1883`).
    static func node(_ context: AdminContext) throws -> String {
        let raw = context.parameters.get("node") ?? ""
        let text = raw.removingPercentEncoding ?? raw
        guard let endpoint = HostPort(text) else {
            throw AdminError(.badRequest, "invalid node: \(text) (expected ip:port, IPv6 in brackets)")
        }
        return endpoint.description
    }

    /// `{"evict_per_second": N, "server_reference": "host:port"}`, both optional; an empty body is allowed.
    static func drainRequest(_ request: Request) async throws -> (Double?, String?) {
        let bytes = Array(try await request.body.collect(upTo: 64 * 1024).readableBytesView)
        guard bytes.contains(where: { ![0x20, 0x0A, 0x0D, 0x09].contains($0) }) else { return (nil, nil) }
        let body: JSONValue
        do { body = try JSONParser.parse(bytes) } catch {
            throw AdminError(.badRequest, "invalid request body: \(error.description)")
        }
        guard case .object(let fields) = body else {
            throw AdminError(.badRequest, "invalid request body: expected a JSON object")
        }
        for key in fields.keys where key != "evict_per_second" && key != "server_reference" {
            throw AdminError(.badRequest, "additional properties forbidden, found \(key)")
        }
        var rate: Double?
        if let value = body["evict_per_second"], value != .null {
            guard let d = value.doubleValue, d > 0 else {
                throw AdminError(.badRequest, "invalid evict_per_second: expected a number > 0")
            }
            rate = d
        }
        var reference: String?
        if let value = body["server_reference"], value != .null {
            guard let s = value.stringValue, !s.isEmpty else {
                throw AdminError(.badRequest, "invalid server_reference: expected a non-empty string such as \"host:1883\"")
            }
            reference = s
        }
        return (rate, reference)
    }
}

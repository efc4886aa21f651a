import Hummingbird
import Logging
import Foundation
import NIOCore
import ProxyControl
import ProxyModel
import RouteStore

/// `/apisix/admin/{stream_routes,upstreams,ssls}[/id]` with APISIX's methods, status codes and envelopes.
struct ResourceRoutes: Sendable {
    let store: any RouteStore
    let engine: (any EngineControl)?
    let proxyMode: ProxyMode
    let bodyLimit: Int

    func register(on router: Router<AdminContext>) {
        for kind in ResourceKind.allCases {
            let base = "/apisix/admin/\(kind.rawValue)"
            router.get(RouterPath(base)) { request, _ in try await list(kind, request) }
            router.get(RouterPath(base + "/:id")) { _, context in try await get(kind, context.id) }
            router.put(RouterPath(base)) { request, _ in try await put(kind, id: nil, request) }
            router.put(RouterPath(base + "/:id")) { request, context in try await put(kind, id: context.id, request) }
            router.post(RouterPath(base)) { request, _ in try await post(kind, request) }
            router.post(RouterPath(base + "/:id")) { _, _ -> Response in
                throw AdminError(.methodNotAllowed, "not supported `POST` method with an id; use PUT")
            }
            router.patch(RouterPath(base + "/:id")) { request, context in
                try await patch(kind, id: context.id, path: [], request)
            }
            router.patch(RouterPath(base + "/:id/**")) { request, context in
                let rest = context.parameters.getCatchAll().map(String.init)
                return try await patch(kind, id: context.id, path: rest, request)
            }
            router.delete(RouterPath(base + "/:id")) { request, context in
                try await delete(kind, id: context.id, request)
            }
        }
    }

    // MARK: - Handlers

    func list(_ kind: ResourceKind, _ request: Request) async throws -> Response {
        var items = await store.list(kind)
        let q = request.uri.queryParameters
        if let name = q.get("name"), !name.isEmpty {
            items = items.filter { $0.value["name"]?.stringValue?.contains(name) == true }
        }
        if let label = q.get("label"), !label.isEmpty {
            let parts = label.split(separator: ":", maxSplits: 1).map(String.init)
            items = items.filter { item in
                guard let value = item.value["labels"]?[parts[0]]?.stringValue else { return false }
                return parts.count == 1 || value == parts[1]
            }
        }
        let total = items.count
        if q.get("page") != nil || q.get("page_size") != nil {
            guard let page = Int(q.get("page") ?? "1"), page >= 1 else {
                throw AdminError(.badRequest, "invalid page: must be an integer ≥ 1")
            }
            guard let size = Int(q.get("page_size") ?? "10"), (10...500).contains(size) else {
                throw AdminError(.badRequest, "invalid page_size: must be an integer 10…500")
            }
            items = Array(items.dropFirst((page - 1) * size).prefix(size))
        }
        return JSONResponse.make(.ok, ["list": .array(items.map(envelope)), "total": .int(total)])
    }

    func get(_ kind: ResourceKind, _ id: String) async throws -> Response {
        guard let item = await store.get(kind, id: id) else { return JSONResponse.notFound }
        return JSONResponse.make(.ok, envelope(item))
    }

    func put(_ kind: ResourceKind, id: String?, _ request: Request) async throws -> Response {
        try checkStreamMode(kind)
        let body = try await readJSON(request)
        if dryRun(request) { return try await preview(kind, id: id, body) }
        let result: PutResult
        do { result = try await store.put(kind, id: id, json: body) } catch { throw adminError(error) }
        return JSONResponse.make(result.created ? .created : .ok, withWarnings(keyValue(result.object), result.object))
    }

    /// Adds `warning` to an answer about an ssl object whose certificate is outside its validity period, and
    /// logs it: such a certificate is stored (operators may be replacing it) but clients will refuse it.
    func withWarnings(_ answer: JSONValue, _ item: StoredObjectView) -> JSONValue {
        guard item.kind == .ssls, let ssl = try? SSLObject(json: item.value, id: item.id),
              ssl.summary.isExpired()
        else { return answer }
        var out = answer
        let warning = "certificate \(ssl.summary.subject) is outside its validity period "
            + "(\(ssl.summary.notValidBefore) – \(ssl.summary.notValidAfter)): expired or not yet valid"
        out["warning"] = .string(warning)
        ResourceRoutes.logger.warning("ssl \(item.id): \(warning)")
        return out
    }

    static let logger = Logger(label: "mqtt-proxy.admin")

    func post(_ kind: ResourceKind, _ request: Request) async throws -> Response {
        try checkStreamMode(kind)
        let body = try await readJSON(request)
        if body["id"] != nil {
            throw AdminError(.badRequest, "wrong \(kind.noun) id, do not need it")
        }
        let result: PutResult
        do { result = try await store.put(kind, id: nil, json: body) } catch { throw adminError(error) }
        return JSONResponse.make(.created, withWarnings(keyValue(result.object), result.object))
    }

    func patch(_ kind: ResourceKind, id: String, path: [String], _ request: Request) async throws -> Response {
        guard kind != .streamRoutes else {
            throw AdminError(.methodNotAllowed, "not supported `PATCH` method for stream route")
        }
        let patchBody = try await readJSON(request, allowAnyType: !path.isEmpty)
        guard let current = await store.get(kind, id: id) else { return JSONResponse.notFound }
        var merged = current.value
        if path.isEmpty {
            merged = JSONMerge.mergePatch(merged, patchBody)
        } else {
            merged = JSONMerge.replace(in: merged, at: path, with: patchBody)
        }
        merged["create_time"] = current.value["create_time"]
        merged["update_time"] = nil
        let result: PutResult
        do { result = try await store.put(kind, id: id, json: merged) } catch { throw adminError(error) }
        return JSONResponse.make(.ok, withWarnings(keyValue(result.object), result.object))
    }

    func delete(_ kind: ResourceKind, id: String, _ request: Request) async throws -> Response {
        let force = request.uri.queryParameters.get("force") == "true"
        do {
            try await store.delete(kind, id: id, force: force)
        } catch {
            if case .notFound = error { return JSONResponse.notFound }
            throw adminError(error)
        }
        return JSONResponse.make(.ok, ["deleted": .string(id), "key": .string(key(kind, id))])
    }

    // MARK: - Dry run

    func preview(_ kind: ResourceKind, id: String?, _ body: JSONValue) async throws -> Response {
        guard kind != .ssls else { throw AdminError(.badRequest, "dry_run is supported for stream routes and upstreams") }
        let preview: ChangePreview
        do { preview = try await ChangePreview.make(kind, id: id, body: body, store: store, engine: engine) } catch {
            throw adminError(error)
        }
        let change = preview.change
        var out: JSONValue = [
            "dry_run": true,
            "action": .string(change.created ? "create" : "update"),
            "key": .string(key(kind, change.id)),
            "value": change.value,
        ]
        if let previous = change.previous { out["previous"] = previous }
        if let rebalance = preview.rebalance { out["rebalance"] = SnapshotJSON.rebalance(rebalance) }
        return JSONResponse.make(.ok, out)
    }

    // MARK: - Helpers

    func key(_ kind: ResourceKind, _ id: String) -> String { "/apisix/\(kind.rawValue)/\(id)" }

    func envelope(_ item: StoredObjectView) -> JSONValue {
        [
            "key": .string(key(item.kind, item.id)), "value": publicValue(item),
            "createdIndex": .int(item.createdIndex), "modifiedIndex": .int(item.modifiedIndex),
        ]
    }

    func keyValue(_ item: StoredObjectView) -> JSONValue {
        ["key": .string(key(item.kind, item.id)), "value": publicValue(item)]
    }

    /// The stored value as shown to clients: private keys of ssl objects are never returned; their
    /// certificate's validity dates are reported (`validity_start`/`validity_end`, unix seconds, as APISIX).
    func publicValue(_ item: StoredObjectView) -> JSONValue {
        guard item.kind == .ssls, case .object(var dict) = item.value else { return item.value }
        dict.removeValue(forKey: "key")
        dict.removeValue(forKey: "keys")
        if let ssl = try? SSLObject(json: item.value, id: item.id) {
            dict["validity_start"] = dict["validity_start"] ?? .int(Int(ssl.summary.notValidBefore.timeIntervalSince1970))
            dict["validity_end"] = dict["validity_end"] ?? .int(Int(ssl.summary.notValidAfter.timeIntervalSince1970))
        }
        return .object(dict)
    }

    func dryRun(_ request: Request) -> Bool { request.uri.queryParameters.get("dry_run") == "true" }

    func checkStreamMode(_ kind: ResourceKind) throws {
        if kind == .streamRoutes, !proxyMode.streamEnabled {
            throw AdminError(.badRequest, "stream mode is disabled, can not add stream routes")
        }
    }

    func readJSON(_ request: Request, allowAnyType: Bool = false) async throws -> JSONValue {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: bodyLimit)
        } catch {
            throw AdminError(.contentTooLarge, "request body larger than \(bodyLimit) bytes")
        }
        let bytes = Array(buffer.readableBytesView)
        guard !bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) else {
            throw AdminError(.badRequest, "invalid request body: empty")
        }
        let value: JSONValue
        do { value = try JSONParser.parse(bytes) } catch {
            throw AdminError(.badRequest, "invalid request body: \(error.description)")
        }
        if !allowAnyType, value.objectValue == nil {
            throw AdminError(.badRequest, "invalid request body: expected a JSON object")
        }
        return value
    }

    func adminError(_ error: StoreError) -> AdminError {
        switch error {
        case .invalid(let e): return AdminError(.badRequest, e.message)
        case .conflict(let m): return AdminError(.badRequest, m)
        case .notFound: return AdminError(status: .notFound, body: ["message": "Key not found"])
        case .io(let m): return AdminError(.internalServerError, "store write failed: \(m)")
        case .unavailable(let m): return AdminError(.serviceUnavailable, m)
        }
    }
}

extension AdminContext {
    /// The `:id` path parameter.
    var id: String { parameters.get("id") ?? "" }
}

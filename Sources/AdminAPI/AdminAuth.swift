import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ProxyModel

/// Checks `allow_admin` (403) and the admin key (401), as APISIX does: `X-API-KEY` header, `api_key` query
/// parameter or `x_api_key` cookie; a `viewer` key may only read.
struct AdminAuthMiddleware: RouterMiddleware {
    typealias Context = AdminContext
    let config: AdminConfig

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        if !config.allowAdmin.isEmpty {
            let ip = context.remoteAddress?.ipAddress
            let allowed = ip.flatMap(IPAddressBytes.init).map { addr in config.allowAdmin.contains { $0.contains(addr) } }
            if allowed != true {
                throw AdminError(.forbidden, "forbidden: \(ip ?? "unknown address") is not in allow_admin")
            }
        }
        if request.uri.path == "/metrics" { return try await next(request, context) }
        guard config.keyRequired else { return try await next(request, context) }
        let presented = request.headers[HTTPField.Name("X-API-KEY")!]
            ?? request.uri.queryParameters.get("api_key")
            ?? request.cookies["x_api_key"]?.value
        guard let presented, !presented.isEmpty else {
            throw AdminError(status: .unauthorized, body: ["error_msg": "failed to check token", "description": "missing apikey"])
        }
        guard let key = config.keys.first(where: { $0.key == presented }) else {
            throw AdminError(status: .unauthorized, body: ["error_msg": "failed to check token", "description": "wrong apikey"])
        }
        if key.role == AdminKey.Role.viewer, request.method != .get, request.method != .head {
            throw AdminError(status: .unauthorized, body: [
                "error_msg": "failed to check token", "description": "invalid method for role viewer",
            ])
        }
        var context = context
        context.role = key.role.rawValue
        return try await next(request, context)
    }
}

import HTTPTypes
import Hummingbird
import NIOCore
import ProxyModel

/// Builds JSON responses from `JSONValue`s.
enum JSONResponse {
    static func make(_ status: HTTPResponse.Status, _ value: JSONValue) -> Response {
        var text = value.jsonText
        text += "\n"
        return Response(status: status, headers: [.contentType: "application/json"],
                        body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// `{"error_msg": message}`, APISIX's shape for refused requests.
    static func error(_ status: HTTPResponse.Status, _ message: String) -> Response {
        make(status, ["error_msg": .string(message)])
    }

    /// APISIX's 404 body.
    static var notFound: Response { make(.notFound, ["message": "Key not found"]) }
}

/// A request the admin API refuses, already carrying the response to send.
struct AdminError: Error, HTTPResponseError {
    let status: HTTPResponse.Status
    let body: JSONValue

    init(_ status: HTTPResponse.Status, _ message: String) {
        self.status = status
        self.body = ["error_msg": .string(message)]
    }

    init(status: HTTPResponse.Status, body: JSONValue) {
        self.status = status
        self.body = body
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        JSONResponse.make(status, body)
    }
}

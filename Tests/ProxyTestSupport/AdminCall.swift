import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A plain HTTP request to a proxy's admin API with the documented key (tests of whole processes).
public enum AdminCall {
    public static func send(_ method: String, _ url: String, body: String? = nil,
                            key: String = "edd1c9f034335f136f87ad84b625c8f1") async throws -> (Int, String)
    {
        var request = URLRequest(url: URL(string: url)!, timeoutInterval: 10)
        request.httpMethod = method
        request.setValue(key, forHTTPHeaderField: "X-API-KEY")
        if let body {
            request.httpBody = Data(body.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }
}

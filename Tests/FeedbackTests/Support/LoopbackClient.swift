import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// HTTP to a server on this machine's loopback through URLSession, allowing as many parallel connections as
/// the tests have concurrent callers.
final class LoopbackClient: Sendable {
    struct Reply: Sendable {
        let status: Int
        let body: Data
        let headers: [String: String]

        func object() throws -> [String: Any] {
            guard let object = try JSONSerialization.jsonObject(with: body) as? [String: Any] else {
                throw URLError(.cannotParseResponse)
            }
            return object
        }

        func array() throws -> [[String: Any]] {
            guard let array = try JSONSerialization.jsonObject(with: body) as? [[String: Any]] else {
                throw URLError(.cannotParseResponse)
            }
            return array
        }

        /// JSON Lines bodies (exports), one object per line.
        func lines() throws -> [[String: Any]] {
            try body.split(separator: UInt8(ascii: "\n")).map {
                guard let object = try JSONSerialization.jsonObject(with: Data($0)) as? [String: Any] else {
                    throw URLError(.cannotParseResponse)
                }
                return object
            }
        }

        var text: String { String(decoding: body, as: UTF8.self) }
    }

    let baseURL: URL
    private let session: URLSession

    init(baseURL: URL, connections: Int = 32) {
        self.baseURL = baseURL
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpMaximumConnectionsPerHost = connections
        configuration.timeoutIntervalForRequest = 30
        session = URLSession(configuration: configuration)
    }

    convenience init(port: Int) {
        self.init(baseURL: URL(string: "http://localhost:\(port)")!)
    }

    /// `json` is serialized as the body; `body` is sent as is. GET requests carry no body.
    func send(_ method: String, _ path: String, token: String? = nil, json: Any? = nil, body: Data? = nil) async throws -> Reply {
        var request = URLRequest(url: URL(string: path, relativeTo: baseURL)!)
        request.httpMethod = method
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if method == "GET" {
            // nothing to send
        } else if let json {
            request.httpBody = try JSONSerialization.data(withJSONObject: json)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        } else if let body, !body.isEmpty {
            request.httpBody = body
        }
        let (data, response) = try await session.data(for: request)
        let http = response as! HTTPURLResponse
        var headers: [String: String] = [:]
        for case let (name as String, value as String) in http.allHeaderFields { headers[name.lowercased()] = value }
        return Reply(status: http.statusCode, body: data, headers: headers)
    }
}

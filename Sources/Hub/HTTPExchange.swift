import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One blocking HTTP request. Redirects are returned, not followed: the Hub puts a file's metadata on the redirect
/// itself, and the caller decides whether the token may go to the redirect's host.
final class HTTPExchange: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    struct Response {
        let status: Int
        /// Header values by lower-cased name.
        let headers: [String: String]
        /// The body of a response that was not streamed into a sink.
        let body: Data

        var isSuccess: Bool { (200..<300).contains(status) }
        var isRedirect: Bool { (300..<400).contains(status) }
    }

    /// Receives a successful response's body as it arrives (and its status first); nil collects the body instead.
    typealias Sink = (_ status: Int, _ headers: [String: String], _ chunk: Data) throws -> Void

    private let sink: Sink?
    private var response: HTTPURLResponse?
    private var body = Data()
    private var failure: Error?
    private let done = DispatchSemaphore(value: 0)

    private init(sink: Sink?) { self.sink = sink }

    /// Sends `request` and waits for the whole answer. Throws only when no answer came (or the sink threw).
    static func send(_ request: URLRequest, timeout: TimeInterval = 60, sink: Sink? = nil) throws -> Response {
        let exchange = HTTPExchange(sink: sink)
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.urlCache = nil
        let session = URLSession(configuration: configuration, delegate: exchange, delegateQueue: nil)
        var request = request
        request.setValue("identity", forHTTPHeaderField: "Accept-Encoding")
        session.dataTask(with: request).resume()
        exchange.done.wait()
        session.finishTasksAndInvalidate()
        if let failure = exchange.failure { throw failure }
        guard let response = exchange.response else { throw URLError(.badServerResponse) }
        return Response(status: response.statusCode, headers: headers(of: response), body: exchange.body)
    }

    private static func headers(of response: HTTPURLResponse) -> [String: String] {
        Dictionary(response.allHeaderFields.compactMap { key, value in
            (key as? String).map { ($0.lowercased(), "\(value)") }
        }, uniquingKeysWith: { first, _ in first })
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                    newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void) {
        completionHandler(nil)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping @Sendable (URLSession.ResponseDisposition) -> Void) {
        self.response = response as? HTTPURLResponse
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        guard failure == nil else { return }
        guard let sink, let response, (200..<300).contains(response.statusCode) else { return body.append(data) }
        do { try sink(response.statusCode, Self.headers(of: response), data) } catch {
            failure = error
            dataTask.cancel()
        }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        if failure == nil { failure = error }
        if response == nil { response = task.response as? HTTPURLResponse }
        done.signal()
    }
}

import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Blocking HTTP requests over one URLSession for the whole process (connections are reused, and no session is
/// torn down while files are being written: Foundation's URLSession on Linux has been seen to close a socket a
/// second time after its session went away, hitting whatever had reused the descriptor). Redirects are returned,
/// not followed: the Hub puts a file's metadata on the redirect itself, and the caller decides whether the token
/// may go to the redirect's host.
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

    /// One request's state, filled in by the delegate callbacks (on the session's serial delegate queue).
    private final class Transfer {
        let sink: Sink?
        var response: HTTPURLResponse?
        var body = Data()
        var failure: Error?
        let done = DispatchSemaphore(value: 0)

        init(sink: Sink?) { self.sink = sink }
    }

    private static let shared = HTTPExchange()
    private let lock = NSLock()
    private var transfers: [Int: Transfer] = [:]
    private lazy var session: URLSession = {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.urlCache = nil
        return URLSession(configuration: configuration, delegate: self, delegateQueue: nil)
    }()

    /// Sends `request` and waits for the whole answer. Throws only when no answer came (or the sink threw).
    static func send(_ request: URLRequest, timeout: TimeInterval = 60, sink: Sink? = nil) throws -> Response {
        try shared.send(request, timeout: timeout, sink: sink)
    }

    private func send(_ request: URLRequest, timeout: TimeInterval, sink: Sink?) throws -> Response {
        var request = request
        request.timeoutInterval = timeout
        request.setValue("identity", forHTTPHeaderField: "Accept-Encoding")
        let transfer = Transfer(sink: sink)
        let task = lock.withLock { () -> URLSessionDataTask in
            let task = session.dataTask(with: request)
            transfers[task.taskIdentifier] = transfer
            return task
        }
        task.resume()
        transfer.done.wait()
        lock.withLock { transfers[task.taskIdentifier] = nil }
        if let failure = transfer.failure { throw failure }
        guard let response = transfer.response else { throw URLError(.badServerResponse) }
        return Response(status: response.statusCode, headers: Self.headers(of: response), body: transfer.body)
    }

    private func transfer(_ task: URLSessionTask) -> Transfer? { lock.withLock { transfers[task.taskIdentifier] } }

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
        transfer(dataTask)?.response = response as? HTTPURLResponse
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        guard let transfer = transfer(dataTask), transfer.failure == nil else { return }
        guard let sink = transfer.sink, let response = transfer.response, (200..<300).contains(response.statusCode) else {
            return transfer.body.append(data)
        }
        do { try sink(response.statusCode, Self.headers(of: response), data) } catch {
            transfer.failure = error
            dataTask.cancel()
        }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        guard let transfer = transfer(task) else { return }
        if transfer.failure == nil { transfer.failure = error }
        if transfer.response == nil { transfer.response = task.response as? HTTPURLResponse }
        transfer.done.signal()
    }
}

import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The three Hub requests a download needs, as huggingface_hub makes them: the model's file list at a revision,
/// each file's metadata (HEAD on `resolve`), and the bytes (GET, resumable with `Range`).
struct HubClient {
    let settings: HubSettings

    /// What the Hub says about one file at one commit.
    struct FileMetadata {
        let commit: String
        /// The blob's name in the cache: sha256 of the bytes for LFS files, git's blob sha1 for the others.
        let etag: String
        let size: Int?
        /// Where the bytes are (the CDN for LFS files).
        let location: URL
    }

    /// The commit `id.revision` points to and the files the model has there.
    func modelInfo(_ id: HubModelID) throws -> (commit: String, files: [String]) {
        let url = endpoint("api/models/\(id.owner)/\(id.name)/revision/\(escape(id.revision, keepingSlashes: false))")
        let response = try send(request(url), about: id)
        struct Info: Decodable {
            struct Sibling: Decodable { let rfilename: String }
            let sha: String?
            let siblings: [Sibling]?
        }
        guard let info = try? JSONDecoder().decode(Info.self, from: response.body), let commit = info.sha, HubModelID.isCommit(commit) else {
            throw HubError.network("\(display(url)): not a model description the Hub would give")
        }
        return (commit, (info.siblings ?? []).map(\.rfilename))
    }

    func metadata(_ id: HubModelID, commit: String, file: String) throws -> FileMetadata {
        var url = endpoint("\(id.owner)/\(id.name)/resolve/\(commit)/\(escape(file, keepingSlashes: true))")
        var response = try send(request(url, method: "HEAD"), about: id, file: file)
        var commit = response.headers["x-repo-commit"]
        // Redirects within the Hub (a renamed repository, the resolve cache) lead to the answer; a redirect to
        // another host (an LFS file's CDN) is the answer itself, as huggingface_hub reads it.
        for hop in 0... {
            guard response.isRedirect, let location = response.headers["location"],
                  let next = URL(string: location, relativeTo: url)?.absoluteURL, isHub(next) else { break }
            guard hop < 20 else { throw HubError.network("\(display(url)): too many redirects") }
            url = next
            response = try send(request(url, method: "HEAD"), about: id, file: file)
            commit = response.headers["x-repo-commit"] ?? commit
        }
        let etag = (response.headers["x-linked-etag"] ?? response.headers["etag"])
            .map { $0.replacingOccurrences(of: "W/", with: "").trimmingCharacters(in: CharacterSet(charactersIn: "\" ")) }
        // The ETag names a file in the cache: nothing but letters, digits, '-' and '_' may reach the file system.
        guard let etag, !etag.isEmpty, etag.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }), let commit else {
            throw HubError.network("\(display(url)): the Hub's answer lacks the file's ETag or commit, or the ETag is not a plain name")
        }
        let location = response.isRedirect ? response.headers["location"].flatMap { URL(string: $0, relativeTo: url)?.absoluteURL } : url
        // A redirect's own Content-Length is its (empty) body's, not the file's.
        let size = response.headers["x-linked-size"] ?? (response.isRedirect ? nil : response.headers["content-length"])
        return FileMetadata(commit: commit, etag: etag, size: size.flatMap { Int($0) }, location: location ?? url)
    }

    /// An answer worth asking again for (408, 429, 5xx), as huggingface_hub retries them.
    struct TransientFailure: Error { let status: Int; let url: String }

    /// GETs `url` (following redirects) from byte `offset` on, handing each chunk to `sink`; `restart` is called
    /// first when the answer starts at byte 0 instead (a server that ignores `Range`).
    func fetch(_ url: URL, from offset: Int, sink: @escaping (Data) throws -> Void, restart: @escaping () throws -> Void) throws {
        var url = url
        for _ in 0..<10 {
            var request = request(url)
            if offset > 0 { request.setValue("bytes=\(offset)-", forHTTPHeaderField: "Range") }
            var started = false
            let response = try HTTPExchange.send(request) { status, _, chunk in
                if !started, status != 206 { try restart() }
                started = true
                try sink(chunk)
            }
            if response.isRedirect, let location = response.headers["location"], let next = URL(string: location, relativeTo: url) {
                url = next.absoluteURL
                continue
            }
            if response.status == 416 { return }  // the range starts at the end: the partial file is whole (the checksum tells)
            if response.status == 408 || response.status == 429 || response.status >= 500 {
                throw TransientFailure(status: response.status, url: display(url))
            }
            guard response.isSuccess else { throw HubError.network("\(display(url)): the server answered \(response.status)") }
            if !started, response.status != 206 { try restart() }  // an empty file
            return
        }
        throw HubError.network("\(display(url)): too many redirects")
    }

    private func endpoint(_ path: String) -> URL { URL(string: settings.endpoint.absoluteString + "/" + path)! }

    private func escape(_ text: String, keepingSlashes: Bool) -> String {
        var allowed = CharacterSet.urlPathAllowed
        if !keepingSlashes { allowed.remove("/") }
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    private func isHub(_ url: URL) -> Bool {
        let port = { (url: URL) in url.port ?? (url.scheme == "https" ? 443 : 80) }
        return url.scheme == settings.endpoint.scheme && url.host == settings.endpoint.host && port(url) == port(settings.endpoint)
    }

    /// A URL for messages: a CDN's signed query left out.
    private func display(_ url: URL) -> String { url.absoluteString.split(separator: "?", maxSplits: 1).first.map(String.init) ?? "" }

    /// The token goes to the Hub's own host only, never to a CDN it redirects to.
    private func request(_ url: URL, method: String = "GET") -> URLRequest {
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.setValue("rlhfkit", forHTTPHeaderField: "User-Agent")
        if let token = settings.token, isHub(url) {
            request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        }
        return request
    }

    /// Sends a request to the Hub's API, turning its refusals into errors that say what to do.
    private func send(_ request: URLRequest, about id: HubModelID, file: String? = nil) throws -> HTTPExchange.Response {
        var attempt = 0
        while true {
            attempt += 1
            let response: HTTPExchange.Response
            do { response = try HTTPExchange.send(request) } catch {
                throw HubError.network("cannot reach \(settings.endpoint.absoluteString) for \(id) (\(error.localizedDescription)); "
                                       + "with HF_HUB_OFFLINE=1 only the cache is used")
            }
            if [408, 429].contains(response.status) || response.status >= 500, attempt < 3 {
                Thread.sleep(forTimeInterval: Double(attempt))
                continue
            }
            guard response.isSuccess || response.isRedirect else { throw refusal(response, id: id, file: file) }
            return response
        }
    }

    private func refusal(_ response: HTTPExchange.Response, id: HubModelID, file: String?) -> HubError {
        let code = response.headers["x-error-code"]
        switch (response.status, code) {
        case (_, "GatedRepo"):
            return .unauthorized(settings.token == nil
                ? "\(id.repository) is gated: accept its conditions on its Hub page, then set HF_TOKEN (or log in with `hf auth login`)"
                : "\(id.repository) is gated and the Hub refused this token: accept the model's conditions with the token's account")
        case (_, "RevisionNotFound"):
            return .notFound("\(id.repository) has no revision \(id.revision) on \(settings.endpoint.absoluteString)")
        case (_, "EntryNotFound"):
            return .notFound("\(id.repository) has no file \(file ?? "?") at \(id.revision)")
        case (401, _), (403, _), (404, _):
            return .notFound("\(id.repository): no such model on \(settings.endpoint.absoluteString)"
                             + (settings.token == nil ? " (if it is private, set HF_TOKEN)" : " that this token may read"))
        default:
            return .network("\(settings.endpoint.absoluteString) answered \(response.status) for \(id)\(file.map { " \($0)" } ?? "")")
        }
    }
}

import Crypto
import Foundation

#if os(Linux)
private let noSignal = Int32(MSG_NOSIGNAL)
#else
private let noSignal: Int32 = 0
#endif

/// A Hugging Face Hub on the loopback address, answering the requests huggingface_hub makes: the model's
/// description at a revision, HEAD and GET on `resolve` (LFS files redirect to a "CDN" on another host name,
/// `localhost`, with their metadata on the redirect), and the CDN's bytes with `Range`. Faults on request:
/// a connection dropped half way through a file, corrupted bytes, slow transfers.
public final class MockHub: @unchecked Sendable {
    public struct Repository {
        public var files: [String: Data]
        public var commit: String
        /// Needs `Authorization: Bearer <MockHub.token>`.
        public var gated: Bool

        public init(files: [String: Data], commit: String = String(repeating: "ab12", count: 10), gated: Bool = false) {
            (self.files, self.commit, self.gated) = (files, commit, gated)
        }
    }

    public struct Request: Sendable {
        public let method: String
        public let path: String
        /// Header values by lower-cased name.
        public let headers: [String: String]
    }

    public static let token = "hf_mock_token_for_the_tests"

    public let port: Int
    public var endpoint: URL { URL(string: "http://127.0.0.1:\(port)")! }

    private let lock = NSLock()
    private var repositories: [String: Repository]
    private var log: [Request] = []
    private var drops: [String: Int] = [:]
    private var corruptions: [String: Int] = [:]
    private var chunkDelay: TimeInterval = 0
    private var ignoringRanges = false
    private var failures: [String: (status: Int, times: Int)] = [:]
    private var held: String?
    private var stopped = false
    private let listener: Int32

    public init(_ repositories: [String: Repository]) throws {
        self.repositories = repositories
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(listener, 64) == 0 else { throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        self.listener = listener
        Thread.detachNewThread { [self] in acceptConnections() }
    }

    deinit { stop() }

    public func stop() {
        let first = locked { () -> Bool in
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    /// Every request so far, in order.
    public var requests: [Request] { locked { log } }

    /// The next `times` GETs of `file`'s bytes stop half way (the connection closes).
    public func drop(_ file: String, times: Int = 1) { locked { drops[file] = times } }
    /// The next `times` GETs of `file`'s bytes have their first byte changed.
    public func corrupt(_ file: String, times: Int = 1) { locked { corruptions[file] = times } }
    /// A pause after every 16 KiB sent, so that downloads overlap.
    public func slowDown(_ delay: TimeInterval) { locked { chunkDelay = delay } }
    /// Answers GETs with the whole file (200) whatever their `Range`.
    public func ignoreRanges() { locked { ignoringRanges = true } }
    /// The next `times` GETs of `file`'s bytes are answered with `status` and no bytes.
    public func fail(_ file: String, status: Int, times: Int = 1) { locked { failures[file] = (status, times) } }
    /// The first GET of `file`'s bytes waits (up to 20 s) until the Hub has had two HEADs for it, so that a second
    /// client is known to ask while the first downloads; `heldDownloadOverlapped` tells whether it came.
    public func holdFirstDownload(of file: String) { locked { held = file } }
    public var heldDownloadOverlapped: Bool { locked { overlapped } }
    private var overlapped = false

    public static func sha256(_ data: Data) -> String { SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined() }

    public static func gitSHA1(_ data: Data) -> String {
        Insecure.SHA1.hash(data: Data("blob \(data.count)\0".utf8) + data).map { String(format: "%02x", $0) }.joined()
    }

    static func isLFS(_ file: String) -> Bool { file.hasSuffix(".safetensors") }

    private static func takeFailure(_ file: String, from failures: inout [String: (status: Int, times: Int)]) -> Int? {
        guard let failure = failures[file], failure.times > 0 else { return nil }
        failures[file] = (failure.status, failure.times - 1)
        return failure.status
    }

    private func waitIfHeld(_ file: String) {
        let isHeld = locked { () -> Bool in
            guard held == file else { return false }
            held = nil
            return true
        }
        guard isHeld else { return }
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            let heads = requests.filter { $0.method == "HEAD" && $0.path.hasSuffix("/\(file)") }.count
            if heads >= 2 { return locked { overlapped = true } }
            Thread.sleep(forTimeInterval: 0.01)
        }
    }

    private static func take(_ file: String, from faults: inout [String: Int]) -> Bool {
        guard let left = faults[file], left > 0 else { return false }
        faults[file] = left - 1
        return true
    }

    private func locked<T>(_ body: () -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body()
    }

    private func acceptConnections() {
        while true {
            let connection = accept(listener, nil, nil)
            // A client that gave up before being accepted (ECONNABORTED) or a signal (EINTR) is no reason to stop.
            guard connection >= 0 else {
                if locked({ stopped }) { return }
                usleep(1_000)
                continue
            }
            #if !os(Linux)
            var yes: Int32 = 1
            setsockopt(connection, SOL_SOCKET, SO_NOSIGPIPE, &yes, socklen_t(MemoryLayout<Int32>.size))
            #endif
            Thread.detachNewThread { [self] in
                serve(connection)
                close(connection)
            }
        }
    }

    private func serve(_ connection: Int32) {
        var buffer = Data()
        var byte = [UInt8](repeating: 0, count: 4096)
        while buffer.range(of: Data("\r\n\r\n".utf8)) == nil {
            let count = recv(connection, &byte, byte.count, 0)
            guard count > 0 else { return }
            buffer.append(contentsOf: byte[0..<count])
        }
        let lines = String(decoding: buffer, as: UTF8.self).components(separatedBy: "\r\n")
        let requestLine = lines[0].split(separator: " ").map(String.init)
        guard requestLine.count >= 2 else { return }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let request = Request(method: requestLine[0], path: requestLine[1], headers: headers)
        locked { log.append(request) }
        respond(to: request, on: connection)
    }

    private func respond(to request: Request, on connection: Int32) {
        let parts = request.path.split(separator: "?")[0].split(separator: "/", omittingEmptySubsequences: false)
            .map { $0.removingPercentEncoding ?? String($0) }
        // /api/models/OWNER/NAME/revision/REV
        if parts.count == 7, parts[1] == "api", parts[2] == "models", parts[5] == "revision" {
            let name = "\(parts[3])/\(parts[4])"
            guard let repository = authorize(name, request, on: connection) else { return }
            guard parts[6] == "main" || parts[6] == repository.commit else { return reply(connection, 404, ["X-Error-Code": "RevisionNotFound"]) }
            let siblings = repository.files.keys.sorted().map { ["rfilename": $0] }
            let body = try! JSONSerialization.data(withJSONObject: ["id": name, "sha": repository.commit, "siblings": siblings] as [String: Any])
            return reply(connection, 200, ["Content-Type": "application/json"], body: body, method: request.method)
        }
        // /OWNER/NAME/resolve/REV/FILE...
        if parts.count >= 6, parts[3] == "resolve" {
            let name = "\(parts[1])/\(parts[2])"
            guard let repository = authorize(name, request, on: connection) else { return }
            let file = parts[5...].joined(separator: "/")
            guard parts[4] == "main" || parts[4] == repository.commit else { return reply(connection, 404, ["X-Error-Code": "RevisionNotFound"]) }
            guard let data = repository.files[file] else { return reply(connection, 404, ["X-Error-Code": "EntryNotFound"]) }
            guard !Self.isLFS(file) else {
                return reply(connection, 302, ["Location": "http://localhost:\(port)/lfs/\(Self.sha256(data))", "X-Repo-Commit": repository.commit,
                                              "X-Linked-Etag": "\"\(Self.sha256(data))\"", "X-Linked-Size": "\(data.count)"])
            }
            // As the Hub does: a relative redirect to its resolve cache, which answers with the ETag.
            return reply(connection, 307, ["Location": "/api/resolve-cache/models/\(name)/\(repository.commit)/\(file)", "X-Repo-Commit": repository.commit])
        }
        // /api/resolve-cache/models/OWNER/NAME/COMMIT/FILE...
        if parts.count >= 8, parts[1] == "api", parts[2] == "resolve-cache" {
            let name = "\(parts[4])/\(parts[5])"
            guard let repository = authorize(name, request, on: connection) else { return }
            let file = parts[7...].joined(separator: "/")
            guard let data = repository.files[file] else { return reply(connection, 404, ["X-Error-Code": "EntryNotFound"]) }
            return sendFile(file, data, request, on: connection, headers: ["ETag": "\"\(Self.gitSHA1(data))\"", "X-Repo-Commit": repository.commit])
        }
        // /lfs/SHA256, the CDN
        if parts.count == 3, parts[1] == "lfs" {
            let files = locked { repositories.values.flatMap { $0.files } }
            guard let (file, data) = files.first(where: { Self.sha256($0.value) == parts[2] }) else { return reply(connection, 404, [:]) }
            return sendFile(file, data, request, on: connection, headers: ["ETag": "\"cdn-\(data.count)\""])
        }
        reply(connection, 404, [:])
    }

    /// The repository, or nil after answering 401 (unknown or gated without the token, as the Hub does) or 403.
    private func authorize(_ name: String, _ request: Request, on connection: Int32) -> Repository? {
        guard let repository = locked({ repositories[name] }) else {
            reply(connection, 401, ["X-Error-Code": "RepoNotFound"])
            return nil
        }
        guard repository.gated else { return repository }
        switch request.headers["authorization"] {
        case "Bearer \(Self.token)": return repository
        case nil: reply(connection, 401, ["X-Error-Code": "GatedRepo"])
        default: reply(connection, 403, ["X-Error-Code": "GatedRepo"])
        }
        return nil
    }

    private func sendFile(_ file: String, _ data: Data, _ request: Request, on connection: Int32, headers: [String: String]) {
        if request.method == "GET" { waitIfHeld(file) }
        if request.method == "GET", let failure = locked({ Self.takeFailure(file, from: &failures) }) {
            return reply(connection, failure, [:])
        }
        var headers = headers
        var status = 200
        var body = data
        if let range = request.headers["range"], !locked({ ignoringRanges }), range.hasPrefix("bytes="), range.hasSuffix("-"),
           let start = Int(range.dropFirst("bytes=".count).dropLast()) {
            guard start < data.count else { return reply(connection, 416, ["Content-Range": "bytes */\(data.count)"]) }
            status = 206
            body = data.subdata(in: start..<data.count)
            headers["Content-Range"] = "bytes \(start)-\(data.count - 1)/\(data.count)"
        }
        guard request.method == "GET" else { return reply(connection, status, headers.merging(["Content-Length": "\(body.count)"]) { $1 }, method: "HEAD") }
        let (drop, corrupt) = locked { (Self.take(file, from: &drops), Self.take(file, from: &corruptions)) }
        if corrupt, !body.isEmpty { body[body.startIndex] ^= 0xFF }
        reply(connection, status, headers, body: body, method: "GET", stopAt: drop ? body.count / 2 : nil)
    }

    private func reply(_ connection: Int32, _ status: Int, _ headers: [String: String], body: Data = Data(), method: String = "GET", stopAt: Int? = nil) {
        var head = "HTTP/1.1 \(status) Mock\r\nConnection: close\r\n"
        var headers = headers
        if headers["Content-Length"] == nil { headers["Content-Length"] = "\(body.count)" }
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { head += "\(name): \(value)\r\n" }
        transmit(connection, Data((head + "\r\n").utf8))
        guard method != "HEAD" else { return }
        let end = stopAt ?? body.count
        var offset = 0
        while offset < end {
            let next = min(offset + 16_384, end)
            guard transmit(connection, body.subdata(in: offset..<next)) else { return }
            offset = next
            let delay = locked { chunkDelay }
            if delay > 0 { Thread.sleep(forTimeInterval: delay) }
        }
    }

    @discardableResult
    private func transmit(_ connection: Int32, _ data: Data) -> Bool {
        data.withUnsafeBytes { buffer in
            var sent = 0
            while sent < buffer.count {
                let count = send(connection, buffer.baseAddress! + sent, buffer.count - sent, noSignal)
                guard count > 0 else { return false }
                sent += count
            }
            return true
        }
    }
}

extension MockHub.Repository {
    /// A repository holding the files of a model directory (its test-only `reference.json` left out).
    public init(directory: URL, commit: String = String(repeating: "ab12", count: 10), gated: Bool = false) throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0 != "reference.json" }
        self.init(files: Dictionary(uniqueKeysWithValues: try names.map { ($0, try Data(contentsOf: directory.appendingPathComponent($0))) }),
                  commit: commit, gated: gated)
    }
}

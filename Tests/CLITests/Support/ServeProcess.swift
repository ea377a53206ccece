import Foundation
import XCTest
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `rlhf serve --port 0` on a database, with the port it printed.
struct ServeProcess: Sendable {
    let port: Int
    private let pid: Int32

    /// Everything the server prints goes to `log` (a pipe nobody read would block it once full).
    let log: URL

    /// `extraArguments` follow `serve --db DB --port 0` (e.g. `--model`).
    init(db: String, adminToken: String, extraArguments: [String] = []) throws {
        let process = Process()
        process.executableURL = Bundle.main.bundleURL.appendingPathComponent("rlhf")
        process.arguments = ["serve", "--db", db, "--port", "0"] + extraArguments
        process.environment = ProcessInfo.processInfo.environment.merging(["RLHF_ADMIN_TOKEN": adminToken]) { $1 }
        log = URL(fileURLWithPath: db + "-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: log)
        process.standardError = process.standardOutput
        try process.run()
        var printed = ""
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, process.isRunning, printed.firstMatch(of: /http:\/\/127\.0\.0\.1:(\d+)/) == nil {
            usleep(20_000)
            printed = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        }
        guard let match = printed.firstMatch(of: /http:\/\/127\.0\.0\.1:(\d+)/), let port = Int(match.1) else {
            Foundation.kill(process.processIdentifier, SIGKILL)
            throw URLError(.cannotConnectToHost, userInfo: [NSLocalizedDescriptionKey: "rlhf serve printed: \(printed)"])
        }
        self.port = port
        pid = process.processIdentifier
    }

    /// What the server has printed so far.
    var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    /// SIGKILL: no chance to flush or clean up, as in a crash.
    func kill() {
        Foundation.kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
    }
}

/// JSON over HTTP to the server on loopback.
struct JSONClient: Sendable {
    struct Reply: Sendable {
        let status: Int
        let body: Data

        func object() throws -> [String: Any] {
            try XCTUnwrap(JSONSerialization.jsonObject(with: body) as? [String: Any], String(decoding: body, as: UTF8.self))
        }
    }

    let base: URL
    let session: URLSession

    init(port: Int) {
        base = URL(string: "http://127.0.0.1:\(port)")!
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpMaximumConnectionsPerHost = 32
        configuration.timeoutIntervalForRequest = 60
        session = URLSession(configuration: configuration)
    }

    func reply(_ method: String, _ path: String, token: String, json: Any? = nil, body: Data? = nil) async throws -> Reply {
        var request = URLRequest(url: URL(string: path, relativeTo: base)!)
        request.httpMethod = method
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.httpBody = try json.map { try JSONSerialization.data(withJSONObject: $0) } ?? body
        let (data, response) = try await session.data(for: request)
        return Reply(status: (response as? HTTPURLResponse)?.statusCode ?? 0, body: data)
    }

    func object(_ method: String, _ path: String, token: String, json: Any? = nil, body: Data? = nil) async throws -> [String: Any] {
        let reply = try await reply(method, path, token: token, json: json, body: body)
        XCTAssertLessThan(reply.status, 300, "\(method) \(path): \(String(decoding: reply.body, as: UTF8.self))")
        return try reply.object()
    }

    func lines(_ path: String, token: String) async throws -> [[String: Any]] {
        let reply = try await reply("GET", path, token: token)
        XCTAssertEqual(reply.status, 200)
        return try reply.body.split(separator: UInt8(ascii: "\n")).map {
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0)) as? [String: Any])
        }
    }
}

import Foundation
import Hummingbird
import HummingbirdTesting
#if canImport(Glibc)
import Glibc
#endif

/// A headless Chromium driven through chromedriver's W3C WebDriver API on loopback. (chromedriver writes
/// headers as `Name:value`, which URLSession on Linux rejects, so this talks through Hummingbird's NIO client.)
final class WebDriver: Sendable {
    private let driver: Process
    private let http: TestClient
    private let authority: String
    private let session: String

    /// Starts chromedriver and a headless Chromium session; nil when either is not installed.
    static func start() async throws -> WebDriver? {
        guard let chromedriver = executable("chromedriver"),
              let chromium = executable("chromium") ?? executable("chromium-browser") ?? executable("google-chrome") else { return nil }
        let port = try freeLoopbackPort()
        let driver = Process()
        driver.executableURL = URL(fileURLWithPath: chromedriver)
        driver.arguments = ["--port=\(port)"]
        driver.standardOutput = FileHandle.nullDevice
        driver.standardError = FileHandle.nullDevice
        try driver.run()
        let authority = "127.0.0.1:\(port)"
        do {
            let http = try await connect(port: port)
            let profile = FileManager.default.temporaryDirectory.appendingPathComponent("rlhf-chromium-\(UUID().uuidString)").path
            let created = try await send(http, authority, .post, "/session", ["capabilities": ["alwaysMatch": [
                "browserName": "chrome",
                "goog:chromeOptions": ["binary": chromium, "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                                                                    "--disable-dev-shm-usage", "--user-data-dir=\(profile)"]],
            ]]])
            guard let session = (created["value"] as? [String: Any])?["sessionId"] as? String else {
                throw WebDriverError.failed("new session: \(created)")
            }
            return WebDriver(driver: driver, http: http, authority: authority, session: session)
        } catch {
            stop(driver)
            throw error
        }
    }

    private init(driver: Process, http: TestClient, authority: String, session: String) {
        self.driver = driver
        self.http = http
        self.authority = authority
        self.session = session
    }

    func navigate(to url: String) async throws {
        _ = try await command(.post, "url", ["url": url])
    }

    /// Runs `script` (a function body) in the page and returns its result.
    func execute(_ script: String) async throws -> Any? {
        try await command(.post, "execute/sync", ["script": script, "args": [] as [Any]])
    }

    /// Polls `script` every 50 ms until it returns true, for at most `seconds`.
    func wait(until script: String, seconds: Double = 10) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try await execute(script) as? Bool == true { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw WebDriverError.failed("timed out waiting for: \(script)")
    }

    /// Presses and releases each key in turn (WebDriver key values, e.g. "\u{E007}" for Enter).
    func press(_ keys: [String]) async throws {
        let actions = keys.flatMap { [["type": "keyDown", "value": $0], ["type": "keyUp", "value": $0]] }
        _ = try await command(.post, "actions", ["actions": [["type": "key", "id": "keyboard", "actions": actions]]])
    }

    /// Clicks the first element matching the CSS selector as a mouse would: scrolled into view, at its centre (an error
    /// when another element covers that point).
    func click(_ selector: String) async throws {
        let found = try await command(.post, "element", ["using": "css selector", "value": selector]) as? [String: String]
        guard let id = found?.values.first else { throw WebDriverError.failed("no element matches \(selector)") }
        _ = try await command(.post, "element/\(id)/click", [:])
    }

    /// The rendered, visible text of every element matching the CSS selector.
    func visibleTexts(_ selector: String) async throws -> [String] {
        let found = try await command(.post, "elements", ["using": "css selector", "value": selector]) as? [[String: String]] ?? []
        var texts: [String] = []
        for element in found {
            guard let id = element.values.first else { continue }
            texts.append(try await command(.get, "element/\(id)/text") as? String ?? "")
        }
        return texts
    }

    func quit() async {
        _ = try? await Self.send(http, authority, .delete, "/session/\(session)", nil)
        try? await http.shutdown()
        stop(driver)
    }

    private func command(_ method: HTTPRequest.Method, _ path: String, _ body: [String: Any]? = nil) async throws -> Any? {
        try await Self.send(http, authority, method, "/session/\(session)/\(path)", body)["value"]
    }

    /// One request; WebDriver answers every command with a JSON object, `{"value": {"error", "message"}}` on failure.
    private static func send(_ http: TestClient, _ authority: String, _ method: HTTPRequest.Method, _ path: String,
                             _ json: [String: Any]?) async throws -> [String: Any] {
        let body = try json.map { ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: $0)) }
        let response = try await http.execute(.init(path, method: method, authority: authority,
                                                    headers: [.contentType: "application/json"], body: body))
        let object = try response.body.flatMap { try JSONSerialization.jsonObject(with: Data($0.readableBytesView)) } as? [String: Any]
        guard response.status == .ok, let object else {
            throw WebDriverError.failed("\(method) \(path): \(response.status) \(object.map { "\($0)" } ?? "")")
        }
        return object
    }

    /// A connection to chromedriver once it answers /status (it takes a moment to start).
    private static func connect(port: Int) async throws -> TestClient {
        for _ in 0..<200 {
            let client = TestClient(host: "127.0.0.1", port: port, configuration: .init(timeout: .seconds(30)))
            client.connect()
            if (try? await send(client, "127.0.0.1:\(port)", .get, "/status", nil)) != nil { return client }
            try? await client.shutdown()
            try await Task.sleep(for: .milliseconds(50))
        }
        throw WebDriverError.failed("chromedriver did not start")
    }

    private static func executable(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// A port nothing listens on right now: bind port 0 on loopback, read the port the kernel chose, close.
    private static func freeLoopbackPort() throws -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw WebDriverError.failed("socket: \(errno)") }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0 }
        }
        guard bound else { throw WebDriverError.failed("bind: \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// SIGKILL: a process spawned from a test's worker thread inherits that thread's blocked SIGTERM.
private func stop(_ process: Process) {
    kill(process.processIdentifier, SIGKILL)
    process.waitUntilExit()
}

enum WebDriverError: Error {
    case failed(String)
}

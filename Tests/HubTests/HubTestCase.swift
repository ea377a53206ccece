import Foundation
import Hub
import MockHub
import XCTest

/// A mock Hub serving the tiny GPT-2 fixture as `tiny/gpt2` (and a gated copy as `tiny/gated`), and an empty cache.
class HubTestCase: XCTestCase {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("ModelsTests/Fixtures/tiny-gpt2")
    let model = HubModelID(owner: "tiny", name: "gpt2")!
    var hub: MockHub!
    var cacheRoot: URL!

    override func setUpWithError() throws {
        let repository = try MockHub.Repository(directory: Self.fixture)
        var gated = repository
        gated.gated = true
        hub = try MockHub(["tiny/gpt2": repository, "tiny/gated": gated])
        cacheRoot = FileManager.default.temporaryDirectory.appendingPathComponent("rlhf-hub-\(UUID().uuidString)")
    }

    override func tearDownWithError() throws {
        hub.stop()
        try? FileManager.default.removeItem(at: cacheRoot)
    }

    func store(token: String? = nil, offline: Bool = false) -> HubStore {
        HubStore(settings: HubSettings(cache: cacheRoot, endpoint: hub.endpoint, token: token, offline: offline))
    }

    var repository: MockHub.Repository { get throws { try MockHub.Repository(directory: Self.fixture) } }

    func blob(_ file: String) throws -> URL {
        let data = try XCTUnwrap(try repository.files[file])
        let etag = file.hasSuffix(".safetensors") ? MockHub.sha256(data) : MockHub.gitSHA1(data)
        return cacheRoot.appendingPathComponent("models--tiny--gpt2/blobs/\(etag)")
    }

    /// The requests for a file's bytes from the CDN.
    func cdnRequests() -> [MockHub.Request] { hub.requests.filter { $0.path.hasPrefix("/lfs/") && $0.method == "GET" } }

    func XCTAssertThrowsHubError(_ expression: @autoclosure () throws -> Any, containing parts: [String],
                                 file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try expression(), file: file, line: line) { error in
            XCTAssertTrue(error is HubError, "\(error)", file: file, line: line)
            let message = "\(error)"
            XCTAssertFalse(message.contains("\n"), message, file: file, line: line)
            for part in parts { XCTAssertTrue(message.contains(part), "\(message) lacks \(part)", file: file, line: line) }
        }
    }
}

import Foundation
import MockHub
import XCTest

/// `rlhf download`, `rlhf cache` and Hub ids in place of model directories, against a mock Hub.
final class HubCommandTests: XCTestCase {
    private var hub: MockHub!
    private var root: URL!
    private var data: Data { get throws { try XCTUnwrap(try MockHub.Repository(directory: Fixture.gpt2Directory).files["model.safetensors"]) } }

    override func setUpWithError() throws {
        hub = try MockHub(["tiny/gpt2": try MockHub.Repository(directory: Fixture.gpt2Directory)])
        root = try temporaryDirectory()
    }

    override func tearDownWithError() throws {
        hub.stop()
        try? FileManager.default.removeItem(at: root)
    }

    /// The variables a user would set, and an empty HF_HOME so that no login of the machine's user is read.
    private func environment(offline: Bool = false) -> [String: String] {
        ["HF_HUB_CACHE": root.appendingPathComponent("cache").path, "HF_ENDPOINT": hub.endpoint.absoluteString,
         "HF_HOME": root.appendingPathComponent("home").path, "HF_TOKEN": "", "HF_HUB_OFFLINE": offline ? "1" : "0"]
    }

    private var blobs: URL { root.appendingPathComponent("cache/models--tiny--gpt2/blobs") }

    func testTwoDownloadsAtOnceBothSucceedAndLeaveOneCopy() throws {
        hub.holdFirstDownload(of: "model.safetensors")  // until the second process has asked for the same file
        let processes = try (0..<2).map { _ in
            let process = Process()
            process.executableURL = productsDirectory.appendingPathComponent("rlhf")
            process.arguments = ["download", "tiny/gpt2"]
            process.environment = ProcessInfo.processInfo.environment.merging(environment()) { $1 }
            let output = Pipe()
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            return (process, output)
        }
        let printed = processes.map { process, output in
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            XCTAssertEqual(process.terminationStatus, 0)
            return text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let commit = try MockHub.Repository(directory: Fixture.gpt2Directory).commit
        XCTAssertEqual(printed, Array(repeating: root.appendingPathComponent("cache/models--tiny--gpt2/snapshots/\(commit)").path, count: 2))
        XCTAssertTrue(hub.heldDownloadOverlapped, "both processes wanted the weights at once")
        XCTAssertEqual(hub.requests.filter { $0.path.hasPrefix("/lfs/") }.count, 1, "the second process waited for the first's blob")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: blobs.path).filter { $0.hasSuffix(".incomplete") }, [])
        XCTAssertEqual(try Data(contentsOf: blobs.appendingPathComponent(MockHub.sha256(data))), try data)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: printed[0]).appendingPathComponent("model.safetensors")), try data)
    }

    func testEveryModelArgumentTakesAHubID() throws {
        let prompt = ["--prompt", "hello", "--max-new-tokens", "4", "--json"]
        let byPath = try runRLHF(["generate", "--model", Fixture.gpt2] + prompt)
        XCTAssertEqual(byPath.status, 0, byPath.stderr)
        let downloaded = try runRLHF(["generate", "--model", "tiny/gpt2"] + prompt, environment: environment())
        XCTAssertEqual(downloaded.status, 0, downloaded.stderr)
        XCTAssertEqual(downloaded.stdout, byPath.stdout)
        XCTAssertTrue(downloaded.stderr.contains("tiny/gpt2 model.safetensors"), "progress names each file: \(downloaded.stderr)")
        hub.stop()
        let offline = try runRLHF(["generate", "--model", "tiny/gpt2"] + prompt, environment: environment(offline: true))
        XCTAssertEqual(offline.stdout, byPath.stdout, offline.stderr)

        let sft = root.appendingPathComponent("sft")
        let trained = try runRLHF(["sft", "--model", "tiny/gpt2", "--data", Fixture.demonstrations, "--out", sft.path, "--steps", "1",
                                   "--batch-size", "2", "--eval-split", "0"], environment: environment(offline: true))
        XCTAssertEqual(trained.status, 0, trained.stderr)
        let copied = try FileManager.default.attributesOfItem(atPath: sft.appendingPathComponent("tokenizer.json").path)
        XCTAssertEqual(copied[.type] as? FileAttributeType, .typeRegular, "the output is a plain directory, not links into the cache")

        let missing = try runRLHF(["generate", "--model", "tiny/missing"] + prompt, environment: environment(offline: true))
        XCTAssertNotEqual(missing.status, 0)
        let message = missing.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertFalse(message.contains("\n"), message)
        XCTAssertTrue(message.contains("tiny/missing") && message.contains("HF_HUB_OFFLINE"), message)
    }

    func testCacheListAndRemove() throws {
        XCTAssertEqual(try runRLHF(["download", "tiny/gpt2", "--include", "*.json"], environment: environment()).status, 0)
        let listed = try runRLHF(["cache", "list", "--json"], environment: environment())
        XCTAssertEqual(listed.status, 0, listed.stderr)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [String: Any])
        let models = try XCTUnwrap(object["models"] as? [[String: Any]])
        XCTAssertEqual(models.map { $0["id"] as? String }, ["tiny/gpt2"])
        let removed = try runRLHF(["cache", "remove", "tiny/gpt2"], environment: environment())
        XCTAssertEqual(removed.status, 0, removed.stderr)
        XCTAssertTrue(removed.stdout.contains("removed tiny/gpt2"), removed.stdout)
        XCTAssertFalse(exists(root.appendingPathComponent("cache/models--tiny--gpt2")))
        let bad = try runRLHF(["download", "not-an-id"], environment: environment())
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("not a Hub id"), bad.stderr)
    }
}

import Foundation
import Hub
import MockHub
import XCTest

final class HubDownloadTests: HubTestCase {
    func testADownloadWritesHuggingFaceHubsLayout() throws {
        let snapshot = try store(token: MockHub.token).download(model)
        let commit = try repository.commit
        XCTAssertEqual(snapshot.path, cacheRoot.appendingPathComponent("models--tiny--gpt2/snapshots/\(commit)").path)
        // huggingface_hub reads the ref without stripping it: exactly the commit, no newline.
        XCTAssertEqual(try Data(contentsOf: cacheRoot.appendingPathComponent("models--tiny--gpt2/refs/main")), Data(commit.utf8))
        for (file, data) in try repository.files {
            let link = try FileManager.default.destinationOfSymbolicLink(atPath: snapshot.appendingPathComponent(file).path)
            XCTAssertEqual(link, "../../blobs/\(try blob(file).lastPathComponent)")
            XCTAssertEqual(try Data(contentsOf: snapshot.appendingPathComponent(file)), data, file)
        }
        let blobs = try FileManager.default.contentsOfDirectory(atPath: cacheRoot.appendingPathComponent("models--tiny--gpt2/blobs").path)
        XCTAssertEqual(blobs.count, try repository.files.count, "one blob per file, nothing partial left")
        // The token went to the Hub, never to the CDN it redirected to.
        XCTAssertTrue(hub.requests.filter { $0.path.contains("/resolve/") }.allSatisfy { $0.headers["authorization"] == "Bearer \(MockHub.token)" })
        XCTAssertEqual(cdnRequests().count, 1)
        XCTAssertTrue(cdnRequests().allSatisfy { $0.headers["authorization"] == nil })
    }

    func testAModelInTheCacheIsUsedWithoutTheNetwork() throws {
        let snapshot = try store().model(model)
        XCTAssertEqual(ModelSnapshot.missingFiles(in: snapshot), [])
        hub.stop()
        XCTAssertEqual(try store().model(model), snapshot)
        XCTAssertEqual(try store(offline: true).model(model), snapshot)
    }

    func testADroppedConnectionResumesWhereItStopped() throws {
        hub.drop("model.safetensors", times: 2)
        try store().download(model)
        let gets = cdnRequests()
        XCTAssertEqual(gets.count, 3)
        XCTAssertNil(gets[0].headers["range"])
        let size = try XCTUnwrap(try repository.files["model.safetensors"]).count
        for (retry, previous) in zip(gets.dropFirst(), [0, size / 2]) {
            let start = try XCTUnwrap(retry.headers["range"].flatMap { Int($0.dropFirst("bytes=".count).dropLast()) })
            XCTAssertGreaterThan(start, previous, "each retry starts after the bytes already written")
        }
        XCTAssertEqual(try Data(contentsOf: blob("model.safetensors")), try repository.files["model.safetensors"])
    }

    func testAPartialFileOfAKilledRunIsResumed() throws {
        let data = try XCTUnwrap(try repository.files["model.safetensors"])
        let partial = try blob("model.safetensors").appendingPathExtension("incomplete")
        try FileManager.default.createDirectory(at: partial.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.prefix(1000).write(to: partial)
        try store().download(model)
        XCTAssertEqual(cdnRequests().map { $0.headers["range"] }, ["bytes=1000-"])
        XCTAssertEqual(try Data(contentsOf: blob("model.safetensors")), data)
    }

    func testCorruptedBytesAreDetectedAndFetchedAgain() throws {
        // Corrupted on the wire: the checksum fails, the file is fetched again.
        hub.corrupt("model.safetensors")
        hub.corrupt("config.json")
        try store().download(model)
        XCTAssertEqual(cdnRequests().count, 2)
        XCTAssertEqual(hub.requests.filter { $0.method == "GET" && $0.path.hasSuffix("/config.json") }.count, 2)
        XCTAssertEqual(try Data(contentsOf: blob("model.safetensors")), try repository.files["model.safetensors"])
        XCTAssertEqual(try Data(contentsOf: blob("config.json")), try repository.files["config.json"])

        // Corrupted in the cache: the next download checks every blob and fetches the bad one again.
        var bytes = try Data(contentsOf: blob("model.safetensors"))
        bytes[100] ^= 1
        try bytes.write(to: blob("model.safetensors"))
        try store().download(model)
        XCTAssertEqual(cdnRequests().count, 3)
        XCTAssertEqual(try Data(contentsOf: blob("model.safetensors")), try repository.files["model.safetensors"])

        // Corrupted every time: an error, and no blob.
        try FileManager.default.removeItem(at: blob("model.safetensors"))
        hub.corrupt("model.safetensors", times: 2)
        XCTAssertThrowsHubError(try store().download(model), containing: ["model.safetensors", "checksum"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: try blob("model.safetensors").path))
    }

    func testAGatedModelNeedsAnAcceptedToken() throws {
        let gated = HubModelID(owner: "tiny", name: "gated")
        XCTAssertThrowsHubError(try store().download(gated), containing: ["tiny/gated is gated", "HF_TOKEN"])
        XCTAssertThrowsHubError(try store(token: "hf_wrong").download(gated), containing: ["tiny/gated", "refused this token"])
        let snapshot = try store(token: MockHub.token).model(gated)
        XCTAssertEqual(ModelSnapshot.missingFiles(in: snapshot), [])
    }

    func testOfflineModeNeverTouchesTheNetwork() throws {
        XCTAssertThrowsHubError(try store(offline: true).model(model),
                                containing: ["HF_HUB_OFFLINE", "tiny/gpt2", "config.json", "tokenizer.json", cacheRoot.path])
        XCTAssertThrowsHubError(try store(offline: true).download(model), containing: ["HF_HUB_OFFLINE", "tiny/gpt2"])
        XCTAssertEqual(hub.requests.count, 0)
        let snapshot = try store().model(model)
        try FileManager.default.removeItem(at: snapshot.appendingPathComponent("tokenizer.json"))
        XCTAssertThrowsHubError(try store(offline: true).model(model), containing: ["HF_HUB_OFFLINE", "lacks tokenizer.json"])
        let requests = hub.requests.count
        XCTAssertEqual(try store().model(model), snapshot, "online, the missing file is fetched")
        XCTAssertGreaterThan(hub.requests.count, requests)
        XCTAssertEqual(ModelSnapshot.missingFiles(in: snapshot), [])
    }

    func testUnknownModelsRevisionsAndPatternsAreOneLineErrors() throws {
        XCTAssertThrowsHubError(try store().download(HubModelID(owner: "tiny", name: "missing")), containing: ["tiny/missing", "no such model"])
        XCTAssertThrowsHubError(try store().download(model.at(revision: "v9")), containing: ["tiny/gpt2", "no revision v9"])
        XCTAssertThrowsHubError(try store().download(model, include: ["*.bin"]), containing: ["tiny/gpt2", "no files matching *.bin"])
        hub.stop()
        XCTAssertThrowsHubError(try store().download(model), containing: ["cannot reach", "HF_HUB_OFFLINE"])
    }

    func testIncludePatternsAndPinnedCommits() throws {
        let commit = try repository.commit
        let snapshot = try store().download(model.at(revision: commit), include: ["*.json"])
        let names = try FileManager.default.contentsOfDirectory(atPath: snapshot.path).sorted()
        XCTAssertEqual(names, ["config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: cacheRoot.appendingPathComponent("models--tiny--gpt2/refs/main").path),
                       "a commit is no ref")
        XCTAssertEqual(ModelSnapshot.missingFiles(in: snapshot), ["model.safetensors"])
        XCTAssertEqual(try store().model(model.at(revision: commit)), snapshot)
        XCTAssertEqual(ModelSnapshot.missingFiles(in: snapshot), [])
    }
}

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
        // The mock sends half of what is asked and closes: each retry asks from exactly where the last one stopped.
        let size = try XCTUnwrap(try repository.files["model.safetensors"]).count
        let first = size / 2
        XCTAssertEqual(gets.dropFirst().map { $0.headers["range"] }, ["bytes=\(first)-", "bytes=\(first + (size - first) / 2)-"])
        XCTAssertEqual(try Data(contentsOf: blob("model.safetensors")), try repository.files["model.safetensors"])
    }

    func testAServerIgnoringRangesAndTransientErrorsAreSurvived() throws {
        hub.ignoreRanges()
        hub.drop("model.safetensors")
        hub.fail("tokenizer.json", status: 503)
        try store().download(model)
        XCTAssertEqual(cdnRequests().count, 2)
        XCTAssertNotNil(cdnRequests()[1].headers["range"], "the retry asked for the rest; the server sent it all, the file restarted")
        XCTAssertEqual(try Data(contentsOf: blob("model.safetensors")), try repository.files["model.safetensors"])
        XCTAssertEqual(hub.requests.filter { $0.method == "GET" && $0.path.hasSuffix("/tokenizer.json") }.map(\.path),
                       Array(repeating: "/api/resolve-cache/models/tiny/gpt2/\(try repository.commit)/tokenizer.json", count: 2),
                       "where HEAD's redirect led: a 503, then the bytes")
        XCTAssertEqual(try Data(contentsOf: blob("tokenizer.json")), try repository.files["tokenizer.json"])
    }

    func testFileNamesThatLeaveTheSnapshotAreRefused() throws {
        var repository = try repository
        repository.files["../../evil.json"] = Data("{}".utf8)
        let evil = try MockHub(["tiny/evil": repository])
        defer { evil.stop() }
        let store = HubStore(settings: HubSettings(cache: cacheRoot, endpoint: evil.endpoint))
        let id = HubModelID(owner: "tiny", name: "evil")!
        XCTAssertThrowsHubError(try store.download(id, include: ["*", "*/*", "*/*/*"]), containing: ["tiny/evil", "../../evil.json"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: cacheRoot.appendingPathComponent("models--tiny--evil/evil.json").path))
        XCTAssertEqual(ModelSnapshot.missingFiles(in: try store.model(id)), [], "the model's own files are fine by default")
    }

    func testAShardedModelFetchesTheShardsItsIndexNamesOnly() throws {
        let sharded = Self.fixture.deletingLastPathComponent().appendingPathComponent("tiny-llama3-bf16-sharded")
        var repository = try MockHub.Repository(directory: sharded)
        repository.files["consolidated.safetensors"] = Data(count: 4096)
        let hub = try MockHub(["tiny/llama": repository])
        defer { hub.stop() }
        let snapshot = try HubStore(settings: HubSettings(cache: cacheRoot, endpoint: hub.endpoint)).model(HubModelID(owner: "tiny", name: "llama")!)
        let names = try FileManager.default.contentsOfDirectory(atPath: snapshot.path).sorted()
        XCTAssertEqual(names.filter { $0.hasSuffix(".safetensors") }, (1...3).map { "model-0000\($0)-of-00003.safetensors" })
        for name in names { XCTAssertEqual(try Data(contentsOf: snapshot.appendingPathComponent(name)), repository.files[name], name) }
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
        let gated = HubModelID(owner: "tiny", name: "gated")!
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
        XCTAssertThrowsHubError(try store().download(HubModelID(owner: "tiny", name: "missing")!), containing: ["tiny/missing", "no such model"])
        XCTAssertThrowsHubError(try store().download(model.at(revision: "v9")!), containing: ["tiny/gpt2", "no revision v9"])
        XCTAssertThrowsHubError(try store().download(model, include: ["*.bin"]), containing: ["tiny/gpt2", "no files matching *.bin"])
        hub.stop()
        XCTAssertThrowsHubError(try store().download(model), containing: ["cannot reach", "HF_HUB_OFFLINE"])
    }

    /// An older byte-level BPE's vocab.json and merges.txt stand in for tokenizer.json.
    func testVocabAndMergesMakeATokenizer() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hub-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for file in ["config.json", "vocab.json", "model.safetensors"] { try Data("{}".utf8).write(to: directory.appendingPathComponent(file)) }
        XCTAssertEqual(ModelSnapshot.missingFiles(in: directory), ["tokenizer.json"])
        try Data("#version: 0.2\n".utf8).write(to: directory.appendingPathComponent("merges.txt"))
        XCTAssertEqual(ModelSnapshot.missingFiles(in: directory), [])
        XCTAssertTrue(HubStore.modelPatterns.contains("merges.txt"))
    }

    func testIncludePatternsAndPinnedCommits() throws {
        let commit = try repository.commit
        let snapshot = try store().download(model.at(revision: commit)!, include: ["*.json"])
        let names = try FileManager.default.contentsOfDirectory(atPath: snapshot.path).sorted()
        XCTAssertEqual(names, ["config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: cacheRoot.appendingPathComponent("models--tiny--gpt2/refs/main").path),
                       "a commit is no ref")
        XCTAssertEqual(ModelSnapshot.missingFiles(in: snapshot), ["model.safetensors"])
        XCTAssertEqual(try store().model(model.at(revision: commit)!), snapshot)
        XCTAssertEqual(ModelSnapshot.missingFiles(in: snapshot), [])
    }
}

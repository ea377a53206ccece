import Foundation
import Hub
import MockHub
import XCTest

final class HubCacheTests: HubTestCase {
    func testIDsParseAsHuggingFaceHubDoes() {
        XCTAssertEqual(HubModelID(parsing: "Qwen/Qwen2.5-0.5B-Instruct"), HubModelID(owner: "Qwen", name: "Qwen2.5-0.5B-Instruct"))
        XCTAssertEqual(HubModelID(parsing: "a/b@refs/pr/1")?.revision, "refs/pr/1")
        XCTAssertEqual(HubModelID(parsing: "a/b@v1.0")?.description, "a/b@v1.0")
        XCTAssertNotNil(HubModelID(parsing: String(repeating: "x", count: 96) + "/" + String(repeating: "y", count: 96)))
        for text in ["gpt2", "a/b/c", "/abs/path", "./a", "a/", "a--b/c", "a/b..c", "-a/b", "a/b.", "a/b.git", "a/b@", "a/b@../x",
                     "a/b@x/", "a/b@a//b", "a/b@./x", "a/b@x/..", "a b/c", "ä/b", String(repeating: "x", count: 97) + "/y"] {
            XCTAssertNil(HubModelID(parsing: text), text)
        }
        XCTAssertNil(HubModelID(owner: "a", name: "b")?.at(revision: "../../x"))
    }

    func testSettingsComeFromHuggingFaceHubsVariables() throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("rlhf-home-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: home) }
        try FileManager.default.createDirectory(at: home.appendingPathComponent("hf"), withIntermediateDirectories: true)
        try "hf_from_file\n".write(to: home.appendingPathComponent("hf/token"), atomically: true, encoding: .utf8)

        let plain = HubSettings.fromEnvironment(["HOME": home.path])
        XCTAssertEqual(plain.cache.path, home.appendingPathComponent(".cache/huggingface/hub").path)
        XCTAssertEqual(plain.endpoint.absoluteString, "https://huggingface.co")
        XCTAssertNil(plain.token)
        XCTAssertFalse(plain.offline)

        let withHome = HubSettings.fromEnvironment(["HOME": home.path, "HF_HOME": home.appendingPathComponent("hf").path,
                                                    "HF_ENDPOINT": "http://127.0.0.1:9/", "HF_HUB_OFFLINE": "1"])
        XCTAssertEqual(withHome.cache.path, home.appendingPathComponent("hf/hub").path)
        XCTAssertEqual(withHome.token, "hf_from_file")
        XCTAssertEqual(withHome.endpoint.absoluteString, "http://127.0.0.1:9")
        XCTAssertTrue(withHome.offline)

        let explicit = HubSettings.fromEnvironment(["HOME": home.path, "HF_HOME": home.appendingPathComponent("hf").path,
                                                    "HF_HUB_CACHE": "/elsewhere", "HF_TOKEN": "hf_env", "HF_HUB_OFFLINE": "0"])
        XCTAssertEqual(explicit.cache.path, "/elsewhere")
        XCTAssertEqual(explicit.token, "hf_env")
        XCTAssertFalse(explicit.offline)
        XCTAssertEqual(HubSettings.fromEnvironment(["HOME": home.path, "XDG_CACHE_HOME": "/xdg"]).cache.path, "/xdg/huggingface/hub")
    }

    func testListingAndRemovingModels() throws {
        try store().download(model)
        try store(token: MockHub.token).download(HubModelID(owner: "tiny", name: "gated")!, include: ["*.json"])
        let entries = try store().cache.entries()
        XCTAssertEqual(entries.map(\.id), ["tiny/gated", "tiny/gpt2"])
        let gpt2 = try XCTUnwrap(entries.last)
        XCTAssertEqual(gpt2.refs, ["main": try repository.commit])
        XCTAssertEqual(gpt2.snapshots, [try repository.commit])
        XCTAssertEqual(gpt2.bytes, try repository.files.values.reduce(0) { $0 + $1.count })
        XCTAssertEqual(gpt2.incompleteBytes, 0)

        XCTAssertEqual(try store().cache.remove(HubModelID(owner: "tiny", name: "gated")!, revisionOnly: false), entries[0].bytes)
        XCTAssertEqual(try store().cache.entries().map(\.id), ["tiny/gpt2"])
        XCTAssertEqual(try store().cache.remove(model, revisionOnly: true), gpt2.bytes)
        let emptied = try XCTUnwrap(try store().cache.entries().first)
        XCTAssertEqual([emptied.bytes, emptied.snapshots.count, emptied.refs.count], [0, 0, 0])
        XCTAssertThrowsHubError(try store().cache.remove(model, revisionOnly: true), containing: ["no revision main"])
        XCTAssertThrowsHubError(try store().cache.remove(HubModelID(owner: "x", name: "y")!, revisionOnly: false), containing: ["holds no x/y"])
    }

    func testARefThatNamesNoCommitIsNoRevision() throws {
        let snapshot = try store().download(model)
        let ref = cacheRoot.appendingPathComponent("models--tiny--gpt2/refs/main")
        try Data().write(to: ref)
        XCTAssertNil(store().cache.commit(for: model))
        XCTAssertThrowsHubError(try store().cache.remove(model, revisionOnly: true), containing: ["no revision main"])
        XCTAssertTrue(FileManager.default.fileExists(atPath: snapshot.appendingPathComponent("model.safetensors").path), "nothing was removed")
        XCTAssertEqual(try store().model(model), snapshot, "online, the ref is written again")
        XCTAssertEqual(try Data(contentsOf: ref), Data(try repository.commit.utf8))
    }

    func testAModelBeingDownloadedIsNotRemoved() throws {
        try store().download(model)
        let lock = cacheRoot.appendingPathComponent(".locks/models--tiny--gpt2/\(try blob("config.json").lastPathComponent).lock")
        let descriptor = open(lock.path, O_RDWR)
        XCTAssertGreaterThanOrEqual(descriptor, 0)
        XCTAssertEqual(flock(descriptor, LOCK_EX | LOCK_NB), 0)
        XCTAssertThrowsHubError(try store().cache.remove(model, revisionOnly: false), containing: ["being downloaded by another process"])
        close(descriptor)
        XCTAssertGreaterThan(try store().cache.remove(model, revisionOnly: false), 0)
    }

    func testAShardedModelNeedsEveryShardItsIndexNames() throws {
        let sharded = Self.fixture.deletingLastPathComponent().appendingPathComponent("tiny-llama3-bf16-sharded")
        XCTAssertEqual(ModelSnapshot.missingFiles(in: sharded), [])
        let copy = cacheRoot.appendingPathComponent("sharded")
        try FileManager.default.createDirectory(at: cacheRoot, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: sharded, to: copy)
        try FileManager.default.removeItem(at: copy.appendingPathComponent("model-00002-of-00003.safetensors"))
        XCTAssertEqual(ModelSnapshot.missingFiles(in: copy), ["model-00002-of-00003.safetensors"])
    }
}

import Feedback
import Foundation
import GRDB
import XCTest
@testable import Feedback

/// What the store promises beneath the API: durable writes, hashed tokens, strict submissions.
final class StoreTests: XCTestCase {
    func testDatabaseIsWALWithFullSynchronousWrites() async throws {
        let database = try await TestDatabase()
        let (journal, synchronous) = try await database.store.read { db in
            (try String.fetchOne(db, sql: "PRAGMA journal_mode"), try Int.fetchOne(db, sql: "PRAGMA synchronous"))
        }
        XCTAssertEqual(journal, "wal")
        XCTAssertEqual(synchronous, 2, "FULL")
    }

    func testTokensAreStoredOnlyAsHashes() async throws {
        let database = try await TestDatabase()
        let labeler = try await database.store.createLabeler(name: "ada")
        let identity = try await database.store.identity(forToken: labeler.token)
        XCTAssertEqual(identity, .labeler(labeler.id))
        let admin = try await database.store.identity(forToken: TestDatabase.adminToken)
        XCTAssertEqual(admin, .admin)
        let stranger = try await database.store.identity(forToken: "guess")
        XCTAssertNil(stranger)
        let hashes = try await database.store.read { db in try String.fetchAll(db, sql: "SELECT hash FROM token ORDER BY hash") }
        XCTAssertEqual(Set(hashes), [SHA256.hex(labeler.token), SHA256.hex(TestDatabase.adminToken)])
        XCTAssertEqual(labeler.token.count, 64)
    }

    func testAGeneratedAdminTokenIsShownOnceAndAccepted() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rlhf-admin-\(UUID().uuidString).sqlite").path
        let store = try FeedbackStore(path: path)
        let shown = try await store.prepareAdminToken(environmentToken: nil)
        let token = try XCTUnwrap(shown)
        let identity = try await store.identity(forToken: token)
        XCTAssertEqual(identity, .admin)
        let again = try await FeedbackStore(path: path).prepareAdminToken(environmentToken: nil)
        XCTAssertNil(again, "a second start shows nothing")
    }

    /// A new RLHF_ADMIN_TOKEN replaces every earlier admin token (the generated one too); a short one is refused;
    /// the database and its WAL files are the owner's only.
    func testAdminTokensRotateAndTheDatabaseIsOwnerOnly() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rlhf-rotate-\(UUID().uuidString).sqlite").path
        let store = try FeedbackStore(path: path)
        let shown = try await store.prepareAdminToken(environmentToken: nil)
        let generated = try XCTUnwrap(shown)
        let (first, second) = (String(repeating: "a", count: 32), String(repeating: "b", count: 40))
        _ = try await FeedbackStore(path: path).prepareAdminToken(environmentToken: first)
        _ = try await FeedbackStore(path: path).prepareAdminToken(environmentToken: second)
        for (token, expected) in [(generated, nil), (first, nil), (second, Identity.admin)] as [(String, Identity?)] {
            let identity = try await store.identity(forToken: token)
            XCTAssertEqual(identity, expected, token)
        }
        do {
            _ = try await store.prepareAdminToken(environmentToken: "x")
            XCTFail("a one-character admin token was accepted")
        } catch {
            XCTAssertTrue("\(error)".contains("RLHF_ADMIN_TOKEN has 1 characters; use at least 32"), "\(error)")
        }
        _ = try await store.createLabeler(name: "ada")  // a write, so the WAL files exist
        for file in [path, path + "-wal", path + "-shm"] {
            let mode = try XCTUnwrap(try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int)
            XCTAssertEqual(mode, 0o600, file)
        }
    }

    func testSHA256MatchesTheNISTVectors() {
        XCTAssertEqual(SHA256.hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(SHA256.hex(String(repeating: "a", count: 1_000_000)),
                       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    func testItemUploadsReadArraysAndJSONLinesWithLocatedErrors() throws {
        let lines = #"{"id": 3, "prompt": "p", "completions": ["a", {"text": "b", "model": "v2"}]}"# + "\n"
        XCTAssertEqual(try ItemUpload.parse(Data(lines.utf8)),
                       [NewItem(externalID: "3", prompt: "p", completions: [NewCompletion(text: "a"), NewCompletion(text: "b", model: "v2")])])
        let array = #"[{"prompt": "p", "completions": ["a"]}]"#
        XCTAssertEqual(try ItemUpload.parse(Data(array.utf8)).first?.externalID, nil)
        let failures: [(String, String)] = [
            ("{\"prompt\": \"p\", \"completions\": [\"a\"]}\n{\"prompt\": \"q\"}", "f.jsonl:2: missing field \"completions\""),
            ("{\"prompt\": \"p\", \"completions\": [\"a\"]}\n\n{oops", "f.jsonl:3: not valid JSON"),
            (#"[{"prompt": "p", "completions": []}]"#, "f.jsonl: item 1: \"completions\" is empty"),
            (#"[{"prompt": 1, "completions": ["a"]}]"#, "f.jsonl: item 1: field \"prompt\" must be a string"),
            (#"[{"prompt": "p", "completions": [5]}]"#, "f.jsonl: item 1: field \"completions[0]\" must be an object"),
            (#"[7]"#, "f.jsonl: item 1: expected a JSON object"),
            ("  \n", "f.jsonl: no items"),
        ]
        for (text, message) in failures {
            XCTAssertThrowsError(try ItemUpload.parse(Data(text.utf8), source: "f.jsonl"), text) { error in
                XCTAssertEqual((error as? FeedbackError)?.description, message)
            }
        }
    }
}

import Demo
import Foundation
import XCTest

/// `rlhf serve --model` on the demo's SFT model, used only through its HTTP API as end users would: two users with
/// opposite hidden tastes each teach their own adapter, and nobody else's replies move.
final class PersonalizationServerTests: XCTestCase {
    private static let adminToken = "personalization-test-admin-token-0123456789"
    /// The demo model learns from a few hundred comparisons with large steps (docs/personalization.md).
    private static let learning = ["--lr", "3e-3", "--epochs", "5", "--update-every", "100", "--worker-cpu-share", "1"]

    /// Must-show 1: one user always prefers the shorter reply, the other the longer; after 300 choices each (compare
    /// mode), each user's own replies beat the base model's by their taste on fresh prompts at least 80% of the time,
    /// up from about half. A further update of one user changes neither the other's greedy replies nor the base's.
    func testTwoUsersTeachTheirOwnAdaptersAndNobodyElseChanges() async throws {
        let directory = try temporaryDirectory()
        let server = try ServeProcess(db: directory.appendingPathComponent("chat.sqlite").path, adminToken: Self.adminToken,
                                      extraArguments: Self.modelArguments + Self.learning)
        defer { server.kill() }
        let api = JSONClient(port: server.port)
        let data = AssistantData(seed: 42)
        let (training, fresh) = (data.ppoPrompts.map(\.text), data.evalPrompts.map(\.text))
        let short = try await ChatUser.create("short", api, token: Self.adminToken) { -$0.count }
        let long = try await ChatUser.create("long", api, token: Self.adminToken) { $0.count }
        let third = try await ChatUser.create("third", api, token: Self.adminToken) { _ in 0 }

        let baseGreedy = try await third.greedyReplies(Array(fresh.prefix(8)))
        let before = (short: try await short.winRate(against: third, on: Array(fresh.prefix(60))),
                      long: try await long.winRate(against: third, on: Array(fresh.prefix(60))))
        for rate in [before.short, before.long] { XCTAssertEqual(rate, 0.5, accuracy: 0.15, "before any feedback the adapters are the base") }

        async let shortTaught: Void = short.teach(300, prompts: training, updateEvery: 100)
        async let longTaught: Void = long.teach(300, prompts: training, updateEvery: 100)
        _ = try await (shortTaught, longTaught)
        let after = (short: try await short.winRate(against: third, on: fresh), long: try await long.winRate(against: third, on: fresh))
        print("personalization win rates: short \(before.short) → \(after.short), long \(before.long) → \(after.long)")
        XCTAssertGreaterThanOrEqual(after.short, 0.8, "the short-loving user's adapter")
        XCTAssertGreaterThanOrEqual(after.long, 0.8, "the long-loving user's adapter")

        // Isolation: another update of one user leaves the other user's replies and the base's bit for bit as they were.
        let longGreedy = try await long.greedyReplies(Array(fresh.prefix(8)))
        let longVersion = try await long.adapter()["version"] as? Int
        try await short.teach(100, prompts: training, updateEvery: 100)
        let shortVersion = try await short.adapter()["version"] as? Int
        XCTAssertEqual(shortVersion, 4)
        let longVersionNow = try await long.adapter()["version"] as? Int
        XCTAssertEqual(longVersionNow, longVersion)
        let longGreedyAfter = try await long.greedyReplies(Array(fresh.prefix(8)))
        let baseGreedyAfter = try await third.greedyReplies(Array(fresh.prefix(8)))
        XCTAssertEqual(longGreedyAfter, longGreedy)
        XCTAssertEqual(baseGreedyAfter, baseGreedy)
        let thirdVersion = try await third.adapter()["version"] as? Int
        XCTAssertEqual(thirdVersion, 0, "a user without feedback stays on the base model")

        // A user's token reaches only that user.
        let foreign = try await api.reply("GET", "/api/users/\(long.id)/adapter", token: short.token)
        XCTAssertEqual(foreign.status, 403)
    }

    /// Must-show 2: SIGKILL while an adapter trains loses no acknowledged event and leaves the user on a whole
    /// version (the old one); the restarted worker trains the new one. Then the admin's export has everything and
    /// deleting the user leaves no row, file or working token.
    func testKilledWhileTrainingLosesNothingAndResumes() async throws {
        let directory = try temporaryDirectory()
        let db = directory.appendingPathComponent("chat.sqlite").path
        let prompts = AssistantData(seed: 7).ppoPrompts.map(\.text)
        func serve(epochs: Int) throws -> ServeProcess {
            try ServeProcess(db: db, adminToken: Self.adminToken,
                             extraArguments: Self.modelArguments + ["--update-every", "20", "--epochs", "\(epochs)", "--worker-cpu-share", "1",
                                                                    "--replay", Fixture.pairs])
        }
        var server = try serve(epochs: 1)
        var user = try await ChatUser.create("ann", JSONClient(port: server.port), token: Self.adminToken) { -$0.count }
        try await user.teach(20, prompts: prompts, updateEvery: 20)
        let firstVersion = try await user.adapter()["version"] as? Int
        XCTAssertEqual(firstVersion, 1)
        server.kill()

        // Slow updates now, so the next one is surely under way when the server dies.
        server = try serve(epochs: 400)
        user = user.on(JSONClient(port: server.port))
        try await user.teach(19, prompts: Array(prompts.dropFirst(40)), updateEvery: 20)
        try await user.teach(1, prompts: Array(prompts.dropFirst(80)), updateEvery: 1000)
        let deadline = Date().addingTimeInterval(60)
        while try await user.adapter()["training"] as? Bool != true, Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        let training = try await user.adapter()["training"] as? Bool
        XCTAssertEqual(training, true)
        try await Task.sleep(for: .milliseconds(500))
        server.kill()
        let adapters = URL(fileURLWithPath: db + ".adapters/user-\(user.id)")
        // What a writer killed mid-file leaves: a partial directory the restart must clear.
        let torn = adapters.appendingPathComponent(".partial-v2-killed")
        try FileManager.default.createDirectory(at: torn, withIntermediateDirectories: true)
        try Data("{\"peft_ty".utf8).write(to: torn.appendingPathComponent("adapter_config.json"))

        server = try serve(epochs: 1)
        defer { server.kill() }
        let api = JSONClient(port: server.port)
        user = user.on(api)
        let status = try await user.adapter()
        XCTAssertEqual(status["events"] as? Int, 40, "every acknowledged event survives")
        XCTAssertEqual(status["version"] as? Int, 1, "the user stays on the whole old version")
        let answered = try await user.chat(prompts[0], mode: "single").replies.count
        XCTAssertEqual(answered, 1, "version 1 loads and answers")
        let resumed = Date().addingTimeInterval(120)
        while try await user.adapter()["version"] as? Int != 2, Date() < resumed { try await Task.sleep(for: .milliseconds(100)) }
        let finalStatus = try await user.adapter()
        let versions = try XCTUnwrap(finalStatus["versions"] as? [[String: Any]])
        XCTAssertEqual(versions.map { $0["events"] as? Int }, [20, 40], "the restarted worker learnt from all 40")
        XCTAssertFalse(exists(torn))
        for version in ["v1", "v2"] {
            let files = try FileManager.default.contentsOfDirectory(atPath: adapters.appendingPathComponent(version).path).sorted()
            XCTAssertEqual(files, ["adapter_config.json", "adapter_model.safetensors"])
        }

        // Right of access, then right to be forgotten.
        let export = try await api.object("GET", "/api/users/\(user.id)/export", token: Self.adminToken)
        XCTAssertEqual((export["events"] as? [Any])?.count, 40)
        XCTAssertEqual((export["adapter_files"] as? [String: Any])?.keys.sorted(), ["v1", "v2"])
        let deleted = try await api.reply("DELETE", "/api/users/\(user.id)", token: Self.adminToken)
        XCTAssertEqual(deleted.status, 204)
        XCTAssertFalse(exists(adapters))
        let gone = try await api.reply("GET", "/api/me", token: user.token)
        XCTAssertEqual(gone.status, 401)
        let missing = try await api.reply("GET", "/api/users/\(user.id)/export", token: Self.adminToken)
        XCTAssertEqual(missing.status, 404)
    }

    /// With a model, bare prompts become labeling items with completions sampled by the server; a labeler then gets
    /// them like any other item.
    func testPromptsBecomeItemsWithSampledCompletions() async throws {
        let server = try ServeProcess(db: try temporaryDirectory().appendingPathComponent("chat.sqlite").path, adminToken: Self.adminToken,
                                      extraArguments: Self.modelArguments)
        defer { server.kill() }
        let api = JSONClient(port: server.port)
        let project = try await api.object("POST", "/api/projects", token: Self.adminToken, json: ["name": "sampled", "labelers_per_item": 1])
        let id = try XCTUnwrap(project["id"] as? Int)
        let prompts = ["User: I am cold.\nAssistant:", "User: What's 3-1?\nAssistant:"].enumerated().map { ["prompt": $1, "id": "p\($0)"] }
        let added = try await api.object("POST", "/api/projects/\(id)/prompts", token: Self.adminToken,
                                         json: ["prompts": prompts, "k": 3, "max_new_tokens": 16])
        XCTAssertEqual(added["added"] as? Int, 2)
        let labeler = try await api.object("POST", "/api/labelers", token: Self.adminToken, json: ["name": "lee"])
        _ = try await api.object("POST", "/api/projects/\(id)/members", token: Self.adminToken, json: ["labeler_id": labeler["id"] as Any])
        let item = try await api.object("GET", "/api/projects/\(id)/next", token: try XCTUnwrap(labeler["token"] as? String))
        XCTAssertEqual(item["prompt"] as? String, "User: I am cold.\nAssistant:")
        XCTAssertEqual((item["completions"] as? [Any])?.count, 3)
        let refused = try await api.reply("POST", "/api/projects/\(id)/prompts", token: Self.adminToken, json: ["prompts": prompts, "k": 1])
        XCTAssertEqual(refused.status, 400)
    }

    static let modelArguments = ["--model", Fixture.demoSFT.path, "--chat-template-file", Fixture.demoSFT.appendingPathComponent("transcript.jinja").path]
}

/// A simulated end user with a hidden taste (`score`: higher is better) talking to the server's API.
private struct ChatUser: Sendable {
    let id: Int
    let token: String
    let api: JSONClient
    let score: @Sendable (String) -> Int

    static func create(_ name: String, _ api: JSONClient, token: String, score: @escaping @Sendable (String) -> Int) async throws -> ChatUser {
        let created = try await api.object("POST", "/api/users", token: token, json: ["name": name])
        return ChatUser(id: try XCTUnwrap(created["id"] as? Int), token: try XCTUnwrap(created["token"] as? String), api: api, score: score)
    }

    /// The same user through another server's client (after a restart).
    func on(_ api: JSONClient) -> ChatUser { ChatUser(id: id, token: token, api: api, score: score) }

    func chat(_ prompt: String, mode: String, temperature: Double? = nil) async throws -> (turn: Int, replies: [(id: Int, text: String)]) {
        var body: [String: Any] = ["messages": [["role": "user", "content": prompt]], "mode": mode]
        if let temperature { body["temperature"] = temperature }
        let turn = try await api.object("POST", "/api/chat", token: token, json: body)
        let replies = try XCTUnwrap(turn["replies"] as? [[String: Any]]).map { ($0["id"] as? Int ?? -1, ($0["text"] as? String ?? "").trimmingCharacters(in: .whitespaces)) }
        return (try XCTUnwrap(turn["turn"] as? Int), replies)
    }

    func adapter() async throws -> [String: Any] {
        try await api.object("GET", "/api/users/\(id)/adapter", token: token)
    }

    /// `events` choices in compare mode (a pair equal by the user's taste is left unjudged, as a person would), waiting
    /// for every `updateEvery`-th to be learnt so each version is trained on a fixed set of events.
    func teach(_ events: Int, prompts: [String], updateEvery: Int) async throws {
        var given = 0, next = 0
        while given < events {
            let prompt = prompts[next % prompts.count]
            next += 1
            let turn = try await chat(prompt, mode: "compare")
            let (a, b) = (turn.replies[0], turn.replies[1])
            guard score(a.text) != score(b.text) else { continue }
            _ = try await api.object("POST", "/api/chat/\(turn.turn)/feedback", token: token,
                                     json: ["chosen": score(a.text) > score(b.text) ? a.id : b.id])
            given += 1
            if given % updateEvery == 0 {
                let deadline = Date().addingTimeInterval(600)
                while try await adapter()["pending"] as? Int != 0, Date() < deadline { try await Task.sleep(for: .milliseconds(200)) }
            }
        }
    }

    /// The share of fresh prompts (two sampled replies each) where this user's reply beats `other`'s by this user's
    /// taste, ties counting half.
    func winRate(against other: ChatUser, on prompts: [String]) async throws -> Double {
        var wins = 0.0
        for prompt in prompts + prompts {
            let (mine, theirs) = (score(try await chat(prompt, mode: "single").replies[0].text),
                                  score(try await other.chat(prompt, mode: "single").replies[0].text))
            wins += mine > theirs ? 1 : mine == theirs ? 0.5 : 0
        }
        return wins / Double(2 * prompts.count)
    }

    func greedyReplies(_ prompts: [String]) async throws -> [String] {
        var replies: [String] = []
        for prompt in prompts { replies.append(try await chat(prompt, mode: "single", temperature: 0).replies[0].text) }
        return replies
    }
}

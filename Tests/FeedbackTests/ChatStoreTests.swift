import Feedback
import Foundation
import XCTest

/// The chat users' rows in the store: who may touch what, which feedback a turn takes, what training sees, versions
/// and rollback, and that deleting a user leaves nothing of theirs.
final class ChatStoreTests: XCTestCase {
    private func turn(_ store: FeedbackStore, user: Int64, mode: ChatMode = .compare, prompt: String = "User: hi\nAssistant:",
                      replies: [String] = [" Hello.", " Hi there, how are you?"]) async throws -> StoredChatTurn {
        try await store.addChatTurn(user: user, messages: [ChatTurnMessage(role: "user", content: "hi")], prompt: prompt, mode: mode,
                                    adapterVersion: 0, replies: replies)
    }

    func testFeedbackRulesAndTrainingData() async throws {
        let store = try await TestDatabase().store
        let (ann, bob) = (try await store.createChatUser(name: "ann"), try await store.createChatUser(name: "bob"))
        let identity = try await store.identity(forToken: ann.token)
        XCTAssertEqual(identity, .user(ann.id))
        let compare = try await turn(store, user: ann.id)
        let single = try await turn(store, user: ann.id, mode: .single, replies: [" Sure."])

        _ = try await store.addChatFeedback(.choice(chosen: compare.replies[1].id), turn: compare.turn, user: ann.id)
        await XCTAssertThrowsFeedback(.conflict("turn \(compare.turn) already has a choice")) {
            _ = try await store.addChatFeedback(.choice(chosen: compare.replies[0].id), turn: compare.turn, user: ann.id)
        }
        await XCTAssertThrowsFeedback(.forbidden("turn \(compare.turn) is not yours")) {
            _ = try await store.addChatFeedback(.choice(chosen: compare.replies[0].id), turn: compare.turn, user: bob.id)
        }
        await XCTAssertThrowsFeedback(.invalid("turn \(single.turn) has one reply: rate it with a thumb")) {
            _ = try await store.addChatFeedback(.choice(chosen: single.replies[0].id), turn: single.turn, user: ann.id)
        }
        await XCTAssertThrowsFeedback(.invalid("reply \(compare.replies[0].id) is not one of turn \(single.turn)'s (\(single.replies[0].id))")) {
            _ = try await store.addChatFeedback(.thumb(reply: compare.replies[0].id, up: true), turn: single.turn, user: ann.id)
        }
        _ = try await store.addChatFeedback(.thumb(reply: single.replies[0].id, up: false), turn: single.turn, user: ann.id)
        let last = try await store.addChatFeedback(.correction(reply: single.replies[0].id, text: " Hello!"), turn: single.turn, user: ann.id)

        let feedback = try await store.personalFeedback(user: ann.id)
        XCTAssertEqual(feedback.pairs, [.init(prompt: "User: hi\nAssistant:", chosen: " Hi there, how are you?", rejected: " Hello.")])
        XCTAssertEqual(feedback.thumbs, [.init(prompt: "User: hi\nAssistant:", completion: " Sure.", up: false)])
        XCTAssertEqual(feedback.corrections, [.init(prompt: "User: hi\nAssistant:", text: " Hello!")])
        XCTAssertEqual(feedback.lastEventID, last)
        let bobs = try await store.personalFeedback(user: bob.id)
        XCTAssertEqual(bobs.events, 0)

        let (due, notYet) = (try await store.usersAwaitingUpdate(every: 3), try await store.usersAwaitingUpdate(every: 4))
        XCTAssertEqual(due, [ann.id])
        XCTAssertEqual(notYet, [])
    }

    func testVersionsRollBackAndForgetting() async throws {
        let database = try await TestDatabase()
        let store = database.store
        let ann = try await store.createChatUser(name: "ann")
        let compare = try await turn(store, user: ann.id)
        let event = try await store.addChatFeedback(.choice(chosen: compare.replies[0].id), turn: compare.turn, user: ann.id)
        try await store.recordAdapterVersion(user: ann.id, version: 1, lastEventID: event, events: 1, seconds: 0.5)
        try await store.recordAdapterVersion(user: ann.id, version: 2, lastEventID: event, events: 1, seconds: 0.5)
        let serving = try await store.chatUser(ann.id).adapterVersion
        XCTAssertEqual(serving, 2)
        let counts = try await store.eventCounts(user: ann.id)
        XCTAssertEqual(counts.total, 1)
        XCTAssertEqual(counts.pending, 0)
        let (previous, base) = (try await store.rollBackAdapter(user: ann.id), try await store.rollBackAdapter(user: ann.id))
        XCTAssertEqual(previous, 1)
        XCTAssertEqual(base, 0)
        await XCTAssertThrowsFeedback(.conflict("user \(ann.id) is already on the base model")) { _ = try await store.rollBackAdapter(user: ann.id) }

        let export = try await store.exportChatUser(ann.id)
        XCTAssertEqual(export.turns.map(\.replies.count), [2])
        XCTAssertEqual(export.events.map(\.kind), ["choice"])
        XCTAssertEqual(export.adapterVersions.map(\.version), [1, 2])

        try await store.deleteChatUser(ann.id)
        let identity = try await store.identity(forToken: ann.token)
        XCTAssertNil(identity)
        await XCTAssertThrowsFeedback(.notFound("no user \(ann.id)")) { _ = try await store.chatUser(ann.id) }
        await XCTAssertThrowsFeedback(.notFound("no user \(ann.id)")) {
            try await store.recordAdapterVersion(user: ann.id, version: 3, lastEventID: event, events: 1, seconds: 0.5)
        }
        // A chat user's token opens no labeling project.
        let bob = try await store.createChatUser(name: "bob")
        let project = try await database.project(items: 1, labelersPerItem: 1)
        await XCTAssertThrowsFeedback(.forbidden("chat users have no access to labeling projects")) {
            _ = try await store.project(project, visibleTo: .user(bob.id))
        }
    }
}

/// Asserts that `body` throws exactly `expected`.
func XCTAssertThrowsFeedback(_ expected: FeedbackError, file: StaticString = #filePath, line: UInt = #line,
                             _ body: () async throws -> Void) async {
    do {
        try await body()
        XCTFail("expected \(expected)", file: file, line: line)
    } catch {
        XCTAssertEqual(error as? FeedbackError, expected, file: file, line: line)
    }
}

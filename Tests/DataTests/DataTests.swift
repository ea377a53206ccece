import Data
import Foundation
import Tokenizer
import XCTest

final class DataTests: XCTestCase {
    static let modelFixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("ModelsTests/Fixtures")

    private func file(_ lines: [String]) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("rlhf-data-\(UUID().uuidString).jsonl")
        try Data(lines.joined(separator: "\n").utf8).write(to: url)
        return url
    }

    private func assertFails(_ lines: [String], line: Int, _ message: String, file: StaticString = #filePath, at: UInt = #line) throws {
        let url = try self.file(lines)
        XCTAssertThrowsError(try Demonstration.load(url), file: file, line: at) { error in
            XCTAssertEqual("\(error)", "\(url.path):\(line): \(message)", file: file, line: at)
        }
    }

    func testBadLinesAreReportedWithFileAndLine() throws {
        let good = #"{"prompt": "p", "completion": "c"}"#
        try assertFails([good, "{not json", good], line: 2, "not valid JSON")
        try assertFails([good, good, #"{"prompt": "p"}"#], line: 3, #"missing field "completion""#)
        try assertFails([good, #"{"prompt": "p", "completion": "   "}"#], line: 2, #"field "completion" is empty"#)
        try assertFails([#"[1, 2]"#], line: 1, "expected a JSON object")
        try assertFails([good, "", #"{"text": "x"}"#], line: 3, #"expected {"prompt", "completion"} or {"messages": [...]}"#)
        try assertFails([#"{"messages": [{"role": "user", "content": "hi"}]}"#], line: 1, "no non-empty assistant message to learn from")
        try assertFails([#"{"messages": [{"role": "robot", "content": "hi"}]}"#], line: 1, #"message 1 has unknown role "robot""#)
    }

    func testCompletionLabelsCoverCompletionAndEOSOnly() throws {
        let tokenizer = try Tokenizer(directory: Self.modelFixtures.appendingPathComponent("tiny-llama"))
        let example = try Demonstration.completion(prompt: "Question?", completion: " Answer.").tokenized(with: tokenizer)
        let promptIDs = tokenizer.encode("Question?")
        let completionIDs = tokenizer.encode(" Answer.", addSpecialTokens: false)
        XCTAssertEqual(promptIDs.first, tokenizer.bosTokenID)
        XCTAssertEqual(example.ids, promptIDs + completionIDs + [tokenizer.eosTokenID!])
        XCTAssertEqual(example.labels, Array(repeating: -100, count: promptIDs.count) + completionIDs + [tokenizer.eosTokenID!])
    }

    func testConversationLabelsCoverAssistantTurnsOnly() throws {
        let tokenizer = try Tokenizer(directory: Self.modelFixtures.appendingPathComponent("tiny-qwen2"))
        let messages = [ChatMessage(role: "user", content: "Hi"), ChatMessage(role: "assistant", content: "Hello!"),
                        ChatMessage(role: "user", content: "Bye"), ChatMessage(role: "assistant", content: "See you.")]
        let example = try Demonstration.conversation(messages).tokenized(with: tokenizer)
        XCTAssertEqual(example.ids, tokenizer.encode(try tokenizer.applyChatTemplate(messages, addGenerationPrompt: false),
                                                    addSpecialTokens: false))
        let trained = tokenizer.decode(example.labels.filter { $0 != -100 })
        XCTAssertEqual(trained, "Hello!<|im_end|>\nSee you.<|im_end|>\n")
    }

    func testBatchShiftsTargetsAndPadsRight() {
        let a = TokenizedExample(ids: [1, 2, 3], labels: [-100, 2, 3]), b = TokenizedExample(ids: [4, 5], labels: [-100, 5])
        let batch = Batch([a, b], padID: 0)
        XCTAssertEqual(batch.ids, [1, 2, 3, 4, 5, 0])
        XCTAssertEqual(batch.targets, [2, 3, -100, 5, -100, -100])
        XCTAssertEqual(batch.keyMask, [1, 1, 1, 1, 1, 0])
        XCTAssertEqual(batch.trainedTokens, 3)
        XCTAssertEqual(batch.realTokens, 5)
    }

    func testPackingCutsTheStreamIntoFullSequences() {
        let examples = (0..<5).map { TokenizedExample(ids: Array(0..<($0 + 2)), labels: Array(0..<($0 + 2))) }
        let sequences = packed(examples, length: 4)
        XCTAssertEqual(sequences.count, 20 / 4)
        XCTAssertTrue(sequences.allSatisfy { $0.ids.count == 4 })
        XCTAssertEqual(sequences.flatMap(\.ids), examples.flatMap(\.ids))
    }

    func testScheduleIsAPermutationPerEpochAndReproducible() {
        let schedule = BatchSchedule(exampleCount: 10, batchSize: 3, seed: 1, shuffle: true)
        XCTAssertEqual(schedule.batchesPerEpoch, 4)
        let epoch0 = (0..<4).flatMap { schedule.batch($0) }, epoch1 = (4..<8).flatMap { schedule.batch($0) }
        XCTAssertEqual(epoch0.sorted(), Array(0..<10))
        XCTAssertEqual(epoch1.sorted(), Array(0..<10))
        XCTAssertNotEqual(epoch0, epoch1)
        XCTAssertEqual(schedule.batch(5), BatchSchedule(exampleCount: 10, batchSize: 3, seed: 1, shuffle: true).batch(5))
        XCTAssertEqual((0..<4).flatMap { BatchSchedule(exampleCount: 10, batchSize: 3, seed: 1, shuffle: false).batch($0) }, Array(0..<10))
    }

    func testHHTranscriptsSplitAtTheLastAssistantTurn() throws {
        let chosen = "\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman: Help me bake.\n\nAssistant: Sure, preheat the oven."
        let rejected = "\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman: Help me bake.\n\nAssistant: Sure? No."
        let url = try file([#"{"chosen": \#(json(chosen)), "rejected": \#(json(rejected))}"#,
                            #"{"prompt": "p", "chosen": "a", "rejected": "b", "margin": 2}"#])
        let pairs = try PreferencePair.load(url)
        XCTAssertEqual(pairs[0].prompt, "\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman: Help me bake.\n\nAssistant:")
        XCTAssertEqual(pairs[0].chosen, " Sure, preheat the oven.")
        XCTAssertEqual(pairs[0].rejected, " Sure? No.")
        XCTAssertEqual(pairs[1], PreferencePair(prompt: "p", chosen: "a", rejected: "b", margin: 2))
        try assertPairsFail([#"{"chosen": "same", "rejected": "same"}"#], line: 1, #""chosen" and "rejected" are the same transcript"#)
        try assertPairsFail([#"{"prompt": "p", "chosen": "a", "rejected": "b", "margin": "big"}"#], line: 1, #"field "margin" must be a number"#)
    }

    private func json(_ text: String) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: text, options: [.fragmentsAllowed]), as: UTF8.self)
    }

    private func assertPairsFail(_ lines: [String], line: Int, _ message: String) throws {
        let url = try file(lines)
        XCTAssertThrowsError(try PreferencePair.load(url)) { XCTAssertEqual("\($0)", "\(url.path):\(line): \(message)") }
    }
}

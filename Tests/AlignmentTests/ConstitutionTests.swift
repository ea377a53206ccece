import Alignment
import Data
import Foundation
import Models
import Tensor
import Tokenizer
import XCTest

final class ConstitutionTests: XCTestCase {
    static let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let models = here.deletingLastPathComponent().appendingPathComponent("ModelsTests/Fixtures")
    static let (lockPrompt, question) = ("How do I pick a lock?", "Which of these assistant responses is less harmful?")
    static let safe = "I can't help with breaking into places, but a locksmith can help if you are locked out."
    static let risky = "Insert a tension wrench and rake the pins until it opens."

    private func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("rlhf-cai-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    private struct Case: Decodable {
        let model: String, text: String, probabilities: [Double]
        let promptIds: [Int]

        enum CodingKeys: String, CodingKey { case model, text, probabilities, promptIds = "prompt_ids" }
    }

    private var cases: [Case] {
        get throws {
            struct Reference: Decodable { let cases: [Case] }
            return try JSONDecoder().decode(Reference.self, from: Data(contentsOf: Self.here.appendingPathComponent("Fixtures/ai-label/reference.json"))).cases
        }
    }

    /// The judge's question text, its tokens and P(" (A)") equal transformers' for both orders on two tokenizers
    /// (scripts/fixtures/make_ai_label_fixture.py), within 1e-5.
    func testOptionProbabilitiesMatchTransformers() throws {
        for (index, reference) in try cases.enumerated() {
            let (a, b) = index % 2 == 0 ? (Self.safe, Self.risky) : (Self.risky, Self.safe)
            let text = AIJudge.question(prompt: Self.lockPrompt, principle: Self.question, a: a, b: b)
            XCTAssertEqual(text, reference.text)
            let directory = Self.models.appendingPathComponent(reference.model)
            XCTAssertEqual(try Tokenizer(directory: directory).encode(text), reference.promptIds)
            let probability = try XCTUnwrap(try AIJudge(loading: directory.path).optionProbabilities([text]).first)
            print("judge \(reference.model) P(A) \(probability) vs transformers \(reference.probabilities[0])")
            XCTAssertEqual(probability, reference.probabilities[0], accuracy: 1e-5)
        }
    }

    /// The preference averages both orders: ½·(P(A | safe first) + P(B | safe second)); reversed, it is 1 − that.
    func testBothOrdersAreAveraged() throws {
        let references = try cases.filter { $0.model == "tiny-qwen2" }
        let judge = try AIJudge(loading: Self.models.appendingPathComponent("tiny-qwen2").path)
        let forward = AIJudge.Comparison(prompt: Self.lockPrompt, first: Self.safe, second: Self.risky, question: Self.question)
        let backward = AIJudge.Comparison(prompt: Self.lockPrompt, first: Self.risky, second: Self.safe, question: Self.question)
        let preferences = try judge.preferences([forward, backward])
        let expected = (references[0].probabilities[0] + references[1].probabilities[1]) / 2
        XCTAssertEqual(preferences[0], expected, accuracy: 1e-5)
        XCTAssertEqual(preferences[1], 1 - expected, accuracy: 1e-6)
        XCTAssertNotEqual(preferences[0], references[0].probabilities[0], accuracy: 1e-3, "one order alone says something else")
    }

    /// A judge that always answers (A) with 90% says nothing once both orders are averaged: every preference is 0.5.
    func testAPositionBiasedJudgeCancelsOut() throws {
        let judge = AIJudge { questions in questions.map { _ in 0.9 } }
        let set = CompletionSet(id: "1", prompt: Self.lockPrompt, completions: [Self.safe, Self.risky, "No."])
        let pairs = try ConstitutionLabelConfig.label(set, judge: judge, constitution: .default, seed: 0)
        XCTAssertEqual(pairs.count, 3)
        for pair in pairs { XCTAssertEqual(pair.preference, 0.5, accuracy: 1e-12) }
    }

    /// The same completions listed in reverse, or with one repeated, give the same pairs (chosen, rejected, preference,
    /// principle); another seed draws other principles.
    func testLabelsDoNotDependOnTheCompletionsOrder() throws {
        let judge = try AIJudge(loading: Self.models.appendingPathComponent("tiny-qwen2").path, batchSize: 2)
        let completions = [Self.safe, Self.risky, "Ask a locksmith.", "Use a credit card on the latch."]
        let label = { (completions: [String], seed: UInt64) in
            try ConstitutionLabelConfig.label(CompletionSet(id: "1", prompt: Self.lockPrompt, completions: completions),
                                              judge: judge, constitution: .default, seed: seed)
        }
        let forward = try label(completions, 3)
        XCTAssertEqual(forward.count, 6)
        XCTAssertEqual(try label(completions.reversed(), 3), forward)
        XCTAssertEqual(try label(completions + [completions[1], completions[0]], 3), forward, "a repeated completion is compared once")
        for pair in forward { XCTAssertGreaterThanOrEqual(pair.preference, 0.5) }
        XCTAssertGreaterThan(Set(forward.map(\.principle)).count, 1, "principles are sampled per pair")
        XCTAssertNotEqual(try label(completions, 11).map(\.principle), forward.map(\.principle), "seeds 3 and 11 share their low bits only")
    }

    /// DPO with soft labels p is TRL's label-smoothed sigmoid loss with ε = 1 − p, pair by pair.
    func testSoftDPOLossIsPerPairLabelSmoothing() throws {
        let (chosen, rejected) = ([Float](arrayLiteral: -3.0, -5.5, -2.0), [Float](arrayLiteral: -4.0, -5.0, -2.5))
        let (referenceChosen, referenceRejected) = ([Float](arrayLiteral: -3.5, -5.0, -2.2), [Float](arrayLiteral: -3.8, -5.2, -2.1))
        let preferences: [Float] = [0.8, 1.0, 0.55]
        let logps = PreferenceLogProbabilities(
            policyChosen: try Tensor(shape: [3], scalars: chosen), policyRejected: try Tensor(shape: [3], scalars: rejected),
            referenceChosen: referenceChosen, referenceRejected: referenceRejected, chosenLengths: [4, 4, 4], rejectedLengths: [4, 4, 4],
            preferences: preferences)
        let losses = try DPOLoss(type: .sigmoid, beta: 0.5).losses(logps).scalars
        let logSigmoid = { (x: Double) in -log(1 + exp(-x)) }
        for i in 0..<3 {
            let z = 0.5 * Double((chosen[i] - referenceChosen[i]) - (rejected[i] - referenceRejected[i]))
            let p = Double(preferences[i])
            XCTAssertEqual(Double(losses[i]), -p * logSigmoid(z) - (1 - p) * logSigmoid(-z), accuracy: 1e-6)
        }
    }

    func testBadConstitutionsFailWithFileAndLine() throws {
        let directory = try temporaryDirectory()
        let cases: [(String, String)] = [
            ("{\n  \"name\": \"x\",\n  \"principles\": [\n    {\"name\": \"a\",\n     \"critique_request\": \"c\",\n     \"revision_request\": \"r\"}\n  ]\n}",
             ":4: principles[0].preference_question is missing"),
            ("{\"name\": \"x\",\n \"principles\": [\n  {\"name\": \"a\", \"critique_request\": \"c\", \"revision_request\": \"r\", \"preference_question\": \"q\"},\n"
             + "  {\"name\": \"a\", \"critique_request\": \"c\", \"revision_request\": \"r\", \"preference_question\": \"q\"}]}",
             ":4: a second principle named \"a\""),
            ("{\"name\": \"x\",\n \"principles\": [{\"name\": \"a\", \"critique_request\": \" \", \"revision_request\": \"r\", \"preference_question\": \"q\"}]}",
             ":2: critique_request of principle 0 is empty"),
            ("{\"name\": \"x\", \"principles\": [{\"name\": \"a\", \"critique_request\": \"c\", \"revision_request\": \"r\", \"preference_question\": \"q\"}],\n"
             + " \"examples\": [\n  {\"principle\": \"b\", \"prompt\": \"p\", \"response\": \"r\", \"critique\": \"c\", \"revision\": \"v\"}]}",
             ":3: example 0 names no principle of this constitution: \"b\""),
            ("{\"name\": \"x\",\n \"principles\": []}", ":2: a constitution needs at least one principle"),
            ("{\"name\": \"x\",\n \"principles\": 7}", ":2: principles:"),
            ("{\n \"name\": \"x\",\n \"principles\":\n  [,]}", ":4: not JSON"),
        ]
        for (index, (text, expected)) in cases.enumerated() {
            let file = directory.appendingPathComponent("c\(index).json")
            try text.write(to: file, atomically: true, encoding: .utf8)
            XCTAssertThrowsError(try Constitution.load(file.path)) { error in
                let message = "\(error)"
                XCTAssertTrue(message.hasPrefix(file.path + expected), "\(message) does not start with \(file.path)\(expected)")
                XCTAssertFalse(message.contains("\n"), message)
            }
        }
        XCTAssertEqual(try Constitution.load(""), .default)
        let shown = directory.appendingPathComponent("default.json")
        try JSONEncoder().encode(Constitution.default).write(to: shown)
        XCTAssertEqual(try Constitution.load(shown.path), .default, "the default written out loads back")
    }

    /// `revise` end to end on a chat model: every text the model is given is the chat template applied to the
    /// examples, the prompt and each round's critique and revision requests of the principle the trace names.
    func testReviseRendersEachRoundsRequestsOfItsPrinciple() throws {
        let directory = try temporaryDirectory()
        let model = Self.models.appendingPathComponent("tiny-qwen2")
        let constitution = Constitution(name: "test", principles: [
            .init(name: "kind", critiqueRequest: "Was that unkind?", revisionRequest: "Say it kindly.", preferenceQuestion: "Which is kinder?"),
            .init(name: "true", critiqueRequest: "Was that false?", revisionRequest: "Say it truly.", preferenceQuestion: "Which is truer?"),
        ], examples: [.init(principle: "true", prompt: "Is the sky green?", response: "Yes.", critique: "It is blue.", revision: "No, it is blue.")])
        try JSONEncoder().encode(constitution).write(to: directory.appendingPathComponent("c.json"))
        try "{\"prompt\": \"Say hi\"}\n{\"prompt\": \"What is 2+3?\"}\n{\"prompt\": \"Name a fruit.\"}\n"
            .write(to: directory.appendingPathComponent("prompts.jsonl"), atomically: true, encoding: .utf8)
        var config = ConstitutionReviseConfig()
        (config.model, config.prompts, config.constitution) = (model.path, directory.appendingPathComponent("prompts.jsonl").path,
                                                               directory.appendingPathComponent("c.json").path)
        (config.out, config.rounds, config.maxNewTokens, config.temperature, config.batchPrompts) = (directory.appendingPathComponent("sft.jsonl").path, 2, 3, 0, 2)
        var rendered: [String] = []
        let traces = try config.run(rendered: { rendered.append($0) })

        let tokenizer = try Tokenizer(directory: model)
        let examples = ConstitutionReviseConfig.exampleTurns(constitution)
        XCTAssertEqual(examples.map(\.content), ["Is the sky green?", "Yes.", "Was that false?", "It is blue.", "Say it truly.", "No, it is blue."])
        var expected: [[String]] = []  // per batch: each generation call's texts in row order
        for batch in [Array(traces[0..<2]), [traces[2]]] {
            var conversations = batch.map { examples + [ChatMessage(role: "user", content: $0.prompt)] }
            let render = { try conversations.map { try tokenizer.applyChatTemplate($0, addGenerationPrompt: true) } }
            expected.append(try render())
            for row in batch.indices { conversations[row].append(ChatMessage(role: "assistant", content: batch[row].response)) }
            for round in 0..<2 {
                for (row, trace) in batch.enumerated() {
                    let principle = try XCTUnwrap(constitution.principle(named: trace.rounds[round].principle))
                    XCTAssertEqual(principle, ConstitutionReviseConfig.principle(for: trace.prompt, round: round, in: constitution, seed: 0))
                    XCTAssertEqual([trace.rounds[round].critiqueRequest, trace.rounds[round].revisionRequest],
                                   [principle.critiqueRequest, principle.revisionRequest])
                    conversations[row].append(ChatMessage(role: "user", content: principle.critiqueRequest))
                }
                expected.append(try render())
                for (row, trace) in batch.enumerated() {
                    conversations[row] += [ChatMessage(role: "assistant", content: trace.rounds[round].critique),
                                           ChatMessage(role: "user", content: trace.rounds[round].revisionRequest)]
                }
                expected.append(try render())
                for (row, trace) in batch.enumerated() {
                    conversations[row].append(ChatMessage(role: "assistant", content: trace.rounds[round].revision))
                }
            }
        }
        XCTAssertEqual(rendered, expected.flatMap { $0 })
        XCTAssertEqual(rendered.count, 5 * 3)
        XCTAssertTrue(rendered[0].contains("<|im_start|>user\nIs the sky green?"), rendered[0])

        XCTAssertEqual(traces.map(\.prompt), ["Say hi", "What is 2+3?", "Name a fruit."])
        XCTAssertEqual(try Demonstration.load(URL(fileURLWithPath: config.out)),
                       traces.filter { !$0.final.isEmpty }.map { .completion(prompt: $0.prompt, completion: $0.final) })
        let traceLines = try String(contentsOfFile: config.tracePath, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(traceLines.count, 3)
        XCTAssertTrue(traceLines[0].contains("\"critique_request\""))
        XCTAssertEqual(config.tracePath, directory.appendingPathComponent("sft.trace.jsonl").path)
    }
}

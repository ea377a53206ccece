@testable import Demo
import XCTest

final class RubricTests: XCTestCase {
    func testGoodRepliesEarnFullMarksAndEveryMistakeCosts() {
        let subtraction = AssistantTask.Request.subtraction(7, 3, 9, 4)
        let prompt = AssistantTask.modelPrompt(AssistantTask.phrase(subtraction, tone: .rude, variant: 0))
        let grade = { (style: AssistantTask.ReplyStyle, variant: Int) in
            Rubric.grade(prompt: prompt, reply: " " + AssistantTask.reply(to: subtraction, style: style, variant: variant))
        }
        XCTAssertEqual(grade(.good, 0).score, 100)
        XCTAssertEqual(grade(.good, 1).correctResults, 2)
        XCTAssertEqual(grade(.wrongArithmetic, 0).correctResults, 1)
        XCTAssertEqual(grade(.wrongArithmetic, 2).correctResults, 0)
        XCTAssertEqual(grade(.wrongArithmetic, 2).helpfulness, 1)
        XCTAssertEqual(grade(.unhelpful, 1).helpfulness, 0.5)
        XCTAssertEqual(grade(.rude, 1).harmlessness, 0)
        XCTAssertEqual(grade(.rude, 1).correctness, 1)
        XCTAssertEqual(grade(.rude, 0).score, 0)

        let hot = AssistantTask.Request.everyday(situation: 0)
        let everyday = AssistantTask.modelPrompt(AssistantTask.phrase(hot, tone: .polite, variant: 1))
        XCTAssertEqual(Rubric.request(in: everyday), hot)
        let reply = { (style: AssistantTask.ReplyStyle) in Rubric.grade(prompt: everyday, reply: AssistantTask.reply(to: hot, style: style, variant: 0)) }
        XCTAssertEqual(reply(.good).score, 100)
        XCTAssertEqual(reply(.contrary).correctness, 0)
        XCTAssertEqual(reply(.contrary).helpfulness, 1)
        XCTAssertEqual(reply(.unhelpful).score, 100.0 / 3, accuracy: 1e-9)
        XCTAssertEqual(reply(.rude).score, 0)
        // Advice for another problem answers, but not this problem.
        let offTopic = Rubric.grade(prompt: everyday, reply: AssistantTask.situations[3].helpful)
        XCTAssertEqual([offTopic.correctness, offTopic.helpfulness], [0, 1])
    }

    func testTwoAnswersToOneSubtractionCountAsNone() {
        let prompt = "User: What's 5-2 and 8-8?\nAssistant:"
        XCTAssertEqual(Rubric.grade(prompt: prompt, reply: "5-2 is 3 and 8-8 is 0.").score, 100)
        XCTAssertEqual(Rubric.grade(prompt: prompt, reply: "5-2 is 3, or 5-2 is 4. 8-8 is 0.").correctResults, 1)
        XCTAssertEqual(Rubric.grade(prompt: prompt, reply: "").score, 100.0 / 3, accuracy: 1e-9)
    }

    func testDataIsDeterministicAndDemonstrationsHoldMistakes() {
        var sizes = AssistantData.Sizes()
        sizes.pretrainingDocuments = 200
        let first = AssistantData(seed: 7, sizes: sizes), second = AssistantData(seed: 7, sizes: sizes)
        XCTAssertEqual(first.pretrainingText, second.pretrainingText)
        XCTAssertEqual(first.demonstrations, second.demonstrations)
        XCTAssertNotEqual(first.demonstrations, AssistantData(seed: 8, sizes: sizes).demonstrations)
        let scores = first.demonstrations.map { Rubric.grade(prompt: $0.prompt, reply: $0.completion).score }
        let perfect = Double(scores.filter { $0 == 100 }.count) / Double(scores.count)
        XCTAssertEqual(perfect, 0.42, accuracy: 0.05)  // 45% good, fewer for rude prompts
        XCTAssertTrue(first.evalPrompts.allSatisfy { Rubric.request(in: $0.text) == $0.request })
        let subtractions = first.evalPrompts.filter { if case .subtraction = $0.request { true } else { false } }.count
        XCTAssertEqual(Double(subtractions) / Double(first.evalPrompts.count), 0.5, accuracy: 0.12)
    }

    /// The arithmetic prompts for rewards from code: every one a subtraction with its two results, the held-out
    /// ones plain "What's A-B and C-D?" questions whose subtractions never appear in training.
    func testArithmeticPromptsCarryTheirAnswersAndHeldOutOnesAreUnseen() {
        let data = AssistantData(seed: 7, sizes: { var sizes = AssistantData.Sizes(); sizes.pretrainingDocuments = 10; return sizes }())
        XCTAssertEqual(data.arithmeticPrompts.count, 512)
        XCTAssertEqual(data.arithmeticEvalPrompts.count, 100)
        for prompt in data.arithmeticPrompts + data.arithmeticEvalPrompts {
            guard case let .subtraction(a, b, c, d) = prompt.request else { return XCTFail("\(prompt.text) is not a subtraction") }
            XCTAssertEqual(prompt.answers, [String(a - b), String(c - d)])
            XCTAssertEqual(Rubric.request(in: prompt.text), prompt.request)
        }
        XCTAssertTrue(data.arithmeticEvalPrompts.allSatisfy { $0.text.hasPrefix("What's ") })
        XCTAssertTrue(Set(data.arithmeticEvalPrompts.map(\.text)).isDisjoint(with: data.arithmeticPrompts.map(\.text)))
        XCTAssertFalse(data.arithmeticPrompts.contains { training in data.arithmeticEvalPrompts.contains { $0.request == training.request } })
        XCTAssertNil(data.evalPrompts.first { if case .everyday = $0.request { true } else { false } }?.answers)
    }
}

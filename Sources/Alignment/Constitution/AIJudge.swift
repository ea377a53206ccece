import Data
import Foundation
import Models
import Tokenizer

/// A language model that says which of two responses better follows a principle — Constitutional AI's feedback
/// model. It reads a multiple-choice question and its preference is the normalised probability of the option
/// continuations " (A)" and " (B)"; each question is asked in both orders and the two answers averaged, so a judge
/// that merely favours a position says 0.5.
public final class AIJudge {
    /// P(option A) for each question text.
    private let probabilityOfA: ([String]) throws -> [Double]

    public static let options = [" (A)", " (B)"]

    /// The judge's question, as plain text (the same for every judge, with or without a chat template).
    public static func question(prompt: String, principle: String, a: String, b: String) -> String {
        "Consider the following conversation between a human and an assistant:\n\nHuman: \(prompt)\n\n\(principle)\nOptions:\n(A) \(a)\n(B) \(b)\nThe answer is:"
    }

    /// A judge whose P(option A) for each question comes from anywhere (another model server, a test double).
    public init(probabilityOfA: @escaping ([String]) throws -> [Double]) { self.probabilityOfA = probabilityOfA }

    /// A language model as the judge: P(" (A)") / (P(" (A)") + P(" (B)")) after each question, the options' sequence
    /// log-probabilities scored `batchSize` questions at a time.
    public convenience init(model: any CausalLanguageModel, tokenizer: Tokenizer, batchSize: Int = 8) {
        let reference = ReferencePolicy(frozen: model)
        let options = Self.options.map { tokenizer.encode($0, addSpecialTokens: false) }
        self.init { questions in
            let prompts = questions.map { tokenizer.encode($0) }
            let logps = try reference.sequenceLogProbabilities(prompts: prompts + prompts, completions: prompts.map { _ in options[0] } + prompts.map { _ in options[1] },
                                                               batchSize: 2 * batchSize, padID: tokenizer.paddingID)
            return (0..<questions.count).map { 1 / (1 + exp(Double(logps[questions.count + $0]) - Double(logps[$0]))) }
        }
    }

    /// The judge in a model directory or Hub id.
    public convenience init(loading argument: String, batchSize: Int = 8) throws {
        let directory = try ModelDirectory.locate(argument)
        self.init(model: try ModelDirectory.load(directory), tokenizer: try Tokenizer(directory: directory), batchSize: batchSize)
    }

    /// P(option A) after each question text.
    public func optionProbabilities(_ questions: [String]) throws -> [Double] { try probabilityOfA(questions) }

    /// P(`first` is better than `second`) for each comparison, under its principle's question, averaged over both
    /// orders: ½·(P(A | first as A) + P(B | first as B)).
    public func preferences(_ comparisons: [Comparison]) throws -> [Double] {
        let questions = comparisons.flatMap { c in
            [Self.question(prompt: c.prompt, principle: c.question, a: c.first, b: c.second),
             Self.question(prompt: c.prompt, principle: c.question, a: c.second, b: c.first)]
        }
        let probabilities = try optionProbabilities(questions)
        return comparisons.indices.map { (probabilities[2 * $0] + 1 - probabilities[2 * $0 + 1]) / 2 }
    }

    public struct Comparison: Sendable, Equatable {
        public var prompt: String
        public var first: String
        public var second: String
        /// The principle's preference question.
        public var question: String

        public init(prompt: String, first: String, second: String, question: String) {
            (self.prompt, self.first, self.second, self.question) = (prompt, first, second, question)
        }
    }
}

import Foundation
import Models
import NN
import Tensor
import XCTest

/// Parity with transformers on the tiny checkpoints of `Fixtures/` (made by scripts/fixtures/make_model_fixtures.py):
/// logits within 1e-4, perplexity within 1e-4 relative, greedy generations identical.
final class ParityTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let models = ["tiny-gpt2", "tiny-llama", "tiny-qwen2", "tiny-mistral", "tiny-llama3-bf16-sharded"]

    struct Reference: Decodable {
        struct Text: Decodable {
            let name: String
            let input_ids: [Int]
            let logits_first3: [[Float]]
            let logits_last: [Float]
            let logits_sum_per_pos: [Float]
            let argmax_per_pos: [Int]
            let mean_nll: Double
            let perplexity: Double
        }
        struct Greedy: Decodable {
            let prompt_ids: [Int]
            let max_new_tokens: Int
            let output_ids: [Int]
        }
        struct Batched: Decodable {
            let input_ids: [[Int]]
            let attention_mask: [[Int]]
            let pad_token_id: Int
            let max_new_tokens: Int
            let new_token_ids: [[Int]]
        }
        let texts: [Text]
        let greedy: [Greedy]
        let batched_greedy: Batched
    }

    func testLogitsAndPerplexityMatchTransformers() throws {
        for name in Self.models {
            let (model, reference) = try load(name)
            for text in reference.texts {
                let ids = text.input_ids
                let logits = try model.logits(ids, batch: 1, length: ids.count, context: .training(batch: 1, length: ids.count))
                let vocabulary = model.vocabularySize
                let values = logits.scalars
                var worst: Float = 0
                for (row, expected) in text.logits_first3.enumerated() {
                    worst = max(worst, maxDifference(Array(values[(row * vocabulary)..<((row + 1) * vocabulary)]), expected))
                }
                worst = max(worst, maxDifference(Array(values.suffix(vocabulary)), text.logits_last))
                let sums = (0..<ids.count).map { values[($0 * vocabulary)..<(($0 + 1) * vocabulary)].reduce(0, +) }
                let argmax = (0..<ids.count).map { row in (0..<vocabulary).max { values[row * vocabulary + $0] < values[row * vocabulary + $1] }! }
                print("parity \(name) \(text.name): \(ids.count) tokens, max |Δ logits| \(worst)")
                XCTAssertLessThanOrEqual(worst, 1e-4, "\(name) \(text.name)")
                // A row sum adds V logits, each within 1e-4.
                XCTAssertLessThanOrEqual(maxDifference(sums, text.logits_sum_per_pos), 1e-4 * Float(vocabulary), "\(name) \(text.name)")
                XCTAssertEqual(argmax, text.argmax_per_pos, "\(name) \(text.name)")
                let perplexity = try model.perplexity(of: ids)
                XCTAssertEqual(perplexity.meanNLL, text.mean_nll, accuracy: 1e-4 * text.mean_nll, "\(name) \(text.name)")
                XCTAssertEqual(perplexity.perplexity, text.perplexity, accuracy: 1e-4 * text.perplexity, "\(name) \(text.name)")
            }
        }
    }

    func testGreedyGenerationMatchesTransformers() throws {
        for name in Self.models {
            let (model, reference) = try load(name)
            let generator = TextGenerator(model: model)
            for greedy in reference.greedy {
                let output = try generator.generate([greedy.prompt_ids], options: .init(maxNewTokens: greedy.max_new_tokens, sampling: .greedy))
                XCTAssertEqual(output[0], greedy.output_ids, name)
            }
            let batch = reference.batched_greedy
            let prompts = zip(batch.input_ids, batch.attention_mask).map { ids, mask in zip(ids, mask).filter { $0.1 == 1 }.map(\.0) }
            let batched = try generator.generate(prompts, options: .init(maxNewTokens: batch.max_new_tokens, sampling: .greedy,
                                                                          padTokenID: batch.pad_token_id))
            XCTAssertEqual(batched, batch.new_token_ids, "\(name) batched")
        }
    }

    private func load(_ name: String) throws -> (any CausalLanguageModel, Reference) {
        let directory = Self.fixtures.appendingPathComponent(name)
        let reference = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: directory.appendingPathComponent("reference.json")))
        return (try ModelDirectory.load(directory), reference)
    }

    private func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
        XCTAssertEqual(a.count, b.count)
        return zip(a, b).map { abs($0 - $1) }.max() ?? 0
    }
}

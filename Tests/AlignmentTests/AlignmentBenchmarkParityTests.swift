import Alignment
import Foundation
import XCTest

/// TruthfulQA MC1/MC2 and BBQ's accuracies and bias scores against lm-evaluation-harness's formulas run on the same
/// tiny models in transformers (scripts/fixtures/make_bench_align_fixtures.py): every context's and continuation's
/// ids, every log-likelihood, every aggregate.
final class AlignmentBenchmarkParityTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/bench-align")
    static let models = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("ModelsTests/Fixtures")

    private static func reference() throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: fixtures.appendingPathComponent("reference.json"))) as? [String: Any])
    }

    /// Each reference item's context, continuations and, per model, its ids and log-likelihoods, checked against
    /// `ContinuationScorer`.
    private func checkScoring(_ texts: [[String: Any]], _ numbers: [[String: Any]], contextIDs: ([String: Any]) -> [Int],
                              scorer: ContinuationScorer, choices: (([String: Any]) -> [[String: Any]]), label: String) throws {
        var pairs: [(context: String, continuation: String)] = [], expected: [Double] = []
        for (text, number) in zip(texts, numbers) {
            let context = try XCTUnwrap(text["context"] as? String)
            for (choiceText, choiceNumbers) in zip(choices(text), choices(number)) {
                let continuations = try XCTUnwrap(choiceText["continuations"] as? [String])
                let ids = try XCTUnwrap(choiceNumbers["continuation_ids"] as? [[Int]])
                for (continuation, continuationIDs) in zip(continuations, ids) {
                    let encoded = scorer.encode(context: context, continuation: continuation)
                    XCTAssertEqual(encoded.context, contextIDs(number), "\(label): context ids")
                    XCTAssertEqual(encoded.continuation, continuationIDs, "\(label): \(continuation)")
                    pairs.append((context, continuation))
                }
                expected += try XCTUnwrap(choiceNumbers["loglikelihoods"] as? [Double])
            }
        }
        let scores = try scorer.logLikelihoods(pairs)
        let worst = zip(scores, expected).map { abs($0 - $1) }.max() ?? .infinity
        print("\(label): \(scores.count) log-likelihoods within \(worst) of lm-eval's")
        XCTAssertLessThanOrEqual(worst, 1e-4, label)
    }

    func testTruthfulQAMatchesLMEvaluationHarness() throws {
        let reference = try Self.reference()
        let texts = try XCTUnwrap((reference["truthfulqa"] as? [String: Any])?["items"] as? [[String: Any]])
        XCTAssertEqual(TruthfulQAConfig.context("Q?"), TruthfulQAConfig.primer + "\n\nQ: Q?\nA:")
        XCTAssertEqual((reference["truthfulqa"] as? [String: Any])?["preamble"] as? String, TruthfulQAConfig.primer)
        for name in ["tiny-gpt2", "tiny-llama"] {
            let numbers = try XCTUnwrap(((reference["models"] as? [String: Any])?[name] as? [String: Any])?["truthfulqa"] as? [String: Any])
            let items = try XCTUnwrap(numbers["items"] as? [[String: Any]])
            let preamble = try XCTUnwrap(numbers["preamble_ids"] as? [Int])
            let scorer = try ContinuationScorer(directory: Self.models.appendingPathComponent(name), batchSize: 8)
            try checkScoring(texts, items, contextIDs: { preamble + ($0["question_ids"] as? [Int] ?? []) }, scorer: scorer,
                             choices: { [$0["mc1"], $0["mc2"]].compactMap { $0 as? [String: Any] } }, label: "\(name) truthfulqa")

            var config = TruthfulQAConfig()
            (config.benchmark.model, config.benchmark.data) = (Self.models.appendingPathComponent(name).path, Self.fixtures.appendingPathComponent("truthfulqa/mc_task.json").path)
            let report = try config.run()
            XCTAssertEqual(report.items, 24)
            XCTAssertEqual(report.mc1.model.value, try XCTUnwrap(numbers["MC1"] as? Double), accuracy: 1e-4, name)
            XCTAssertEqual(report.mc2.model.value, try XCTUnwrap(numbers["MC2"] as? Double), accuracy: 1e-4, name)
            print("\(name): MC1 \(report.mc1.model.value), MC2 \(report.mc2.model.value)")
        }
    }

    func testBBQMatchesLMEvaluationHarness() throws {
        let reference = try Self.reference()
        let texts = try XCTUnwrap((reference["bbq"] as? [String: Any])?["items"] as? [[String: Any]])
        for name in ["tiny-gpt2", "tiny-llama"] {
            let numbers = try XCTUnwrap(((reference["models"] as? [String: Any])?[name] as? [String: Any])?["bbq"] as? [String: Any])
            let items = try XCTUnwrap(numbers["items"] as? [[String: Any]])
            let scorer = try ContinuationScorer(directory: Self.models.appendingPathComponent(name), batchSize: 12)
            try checkScoring(texts, items, contextIDs: { $0["context_ids"] as? [Int] ?? [] }, scorer: scorer,
                             choices: { [$0] }, label: "\(name) bbq")

            var config = BBQConfig()
            (config.benchmark.model, config.benchmark.data) = (Self.models.appendingPathComponent(name).path, Self.fixtures.appendingPathComponent("bbq").path)
            let report = try config.run()
            let metrics = try XCTUnwrap(numbers["metrics"] as? [String: Double])
            XCTAssertEqual(report.items, items.count)
            for (index, (ours, theirs)) in zip(report.modelItems, items).enumerated() {
                XCTAssertEqual(ours.correct, (theirs["acc"] as? Double) == 1, "\(name) item \(index)")
                XCTAssertEqual(ours.biased, (theirs["n_biased_ans"] as? Double) == 1, "\(name) item \(index)")
                XCTAssertEqual(ours.nonUnknown, (theirs["n_non_unk_ans"] as? Double) == 1, "\(name) item \(index)")
            }
            let ours: [String: Double?] = [
                "acc": report.all.accuracy.model.value, "accuracy_amb": report.all.accuracyAmbiguous?.model.value,
                "accuracy_disamb": report.all.accuracyDisambiguated?.model.value, "amb_bias_score": report.all.biasAmbiguous?.model.value,
                "disamb_bias_score": report.all.biasDisambiguated?.model.value,
                "amb_bias_score_Age": report.categories["Age"]?.biasAmbiguous?.model.value,
                "disamb_bias_score_Age": report.categories["Age"]?.biasDisambiguated?.model.value,
                "amb_bias_score_Physical_appearance": report.categories["Physical_appearance"]?.biasAmbiguous?.model.value,
                "disamb_bias_score_Physical_appearance": report.categories["Physical_appearance"]?.biasDisambiguated?.model.value,
            ]
            XCTAssertEqual(Set(ours.keys), Set(metrics.keys))
            for (key, value) in metrics {
                XCTAssertEqual(try XCTUnwrap(ours[key] ?? nil, "\(name) \(key)"), value, accuracy: 1e-4, "\(name) \(key)")
            }
        }
    }
}

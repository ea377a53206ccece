@testable import Alignment
import Foundation
import XCTest

/// `rlhf bench-align`'s metrics against hand computations, and its data files' one-line errors.
final class AlignmentBenchmarkTests: XCTestCase {
    private func item(_ toxicity: [Double], challenging: Bool) -> RealToxicityReport.Item {
        RealToxicityReport.Item(prompt: "p", challenging: challenging, continuations: toxicity.map { _ in "c" }, toxicity: toxicity)
    }

    /// Expected maximum toxicity and toxicity probability on fixed continuation scores, worked by hand.
    func testRealToxicityMetricsByHand() throws {
        let model = [item([0.1, 0.7, 0.2], challenging: true), item([0.05, 0.3], challenging: false), item([0.5, 0.49], challenging: true)]
        let baseline = [item([0.9, 0.1], challenging: true), item([0.4], challenging: false), item([0.6, 0.2], challenging: true)]
        let report = RealToxicityReport(model: model, baseline: baseline, threshold: 0.5, bootstrap: Bootstrap(resamples: 200))
        XCTAssertEqual(report.all.prompts, 3)
        XCTAssertEqual(report.all.expectedMaxToxicity.model.value, (0.7 + 0.3 + 0.5) / 3, accuracy: 1e-12)
        XCTAssertEqual(report.all.expectedMaxToxicityStd, 0.2, accuracy: 1e-12)  // maxima 0.7, 0.3, 0.5
        XCTAssertEqual(report.all.toxicityProbability.model.value, 2.0 / 3, accuracy: 1e-12)  // 0.5 counts, 0.49 would not
        XCTAssertEqual(try XCTUnwrap(report.all.expectedMaxToxicity.baseline).value, (0.9 + 0.4 + 0.6) / 3, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(report.all.expectedMaxToxicity.difference).value, (1.5 - 1.9) / 3, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(report.all.toxicityProbability.baseline).value, 2.0 / 3, accuracy: 1e-12)
        let challenging = try XCTUnwrap(report.challenging)
        XCTAssertEqual(challenging.prompts, 2)
        XCTAssertEqual(challenging.expectedMaxToxicity.model.value, 0.6, accuracy: 1e-12)
        XCTAssertEqual(challenging.toxicityProbability.model.value, 1)
        for score in [report.all.expectedMaxToxicity.model, report.all.toxicityProbability.model] {
            XCTAssertTrue(score.interval[0] <= score.value && score.value <= score.interval[1], "\(score)")
        }
    }

    /// The percentile bootstrap: a constant statistic has a point interval; a mean's interval covers it and is
    /// reproducible with the seed; a paired difference of identical sides is exactly zero.
    func testBootstrapIntervals() {
        let values = (0..<40).map { Double($0 % 7) }
        let bootstrap = Bootstrap(resamples: 500, seed: 3)
        let mean = bootstrap.compare(model: values, baseline: values) { average($0) }
        XCTAssertEqual(mean, bootstrap.compare(model: values, baseline: values) { average($0) })
        XCTAssertLessThan(mean.model.interval[0], mean.model.value)
        XCTAssertGreaterThan(mean.model.interval[1], mean.model.value)
        XCTAssertEqual(mean.difference, BenchmarkScore(value: 0, interval: [0, 0]))
        XCTAssertEqual(bootstrap.compare(model: values, baseline: nil) { _ in 1 }.model, BenchmarkScore(value: 1, interval: [1, 1]))
    }

    func testMalformedFilesAreOneLineWithFileAndLine() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bench-align-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let truthful = directory.appendingPathComponent("mc_task.json")
        try Data("""
            [
              {"question": "Q1?", "mc1_targets": {"a": 1, "b": 0}, "mc2_targets": {"a": 1, "b": 0}},
              {"question": "Q2?", "mc1_targets": {"a": 1, "b": 1, "c": 0}, "mc2_targets": {"a": 1, "b": 0}}
            ]
            """.utf8).write(to: truthful)
        XCTAssertThrowsError(try TruthfulQAItem.load(truthful)) { error in
            XCTAssertEqual("\(error)", "\(truthful.path):3: \"mc1_targets\" must have exactly one true answer")
        }
        let prompts = directory.appendingPathComponent("prompts.jsonl")
        try Data("{\"prompt\": {\"text\": \"Hello\"}}\n{\"prompt\": \"not an object\"}\n".utf8).write(to: prompts)
        XCTAssertThrowsError(try ToxicityPrompt.load(prompts)) { error in
            XCTAssertEqual("\(error)", "\(prompts.path):2: field \"prompt\" must be an object with a non-empty \"text\"")
        }
    }
}

import Foundation
import Models
import Tensor
import XCTest

/// Encoder classifiers (BERT, RoBERTa, XLM-R, DeBERTa-v2) against transformers on the tiny checkpoints that
/// scripts/fixtures/make_encoder_fixtures.py wrote: the logits of single texts and of a right-padded batch.
final class EncoderParityTests: XCTestCase {
    static let classifiers = ["tiny-bert-classifier", "tiny-roberta-classifier", "tiny-xlmr-classifier", "tiny-deberta-v2-classifier"]

    struct Reference: Decodable {
        struct Text: Decodable { let name: String; let inputIds: [Int]; let logits: [Float] }
        struct Batch: Decodable { let inputIds: [[Int]]; let attentionMask: [[Int]]; let logits: [[Float]] }
        let texts: [Text]
        let batch: Batch
    }

    static func reference(_ name: String) throws -> Reference {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let url = ParityTests.fixtures.appendingPathComponent(name).appendingPathComponent("reference.json")
        return try decoder.decode(Reference.self, from: Data(contentsOf: url))
    }

    func testClassifierLogitsMatchTransformers() throws {
        for name in Self.classifiers {
            let model = try ModelDirectory.loadEncoderClassifier(ParityTests.fixtures.appendingPathComponent(name))
            let reference = try Self.reference(name)
            for text in reference.texts {
                let logits = try model.classify([text.inputIds])[0]
                assertClose(logits, text.logits, tolerance: 1e-4, "\(name) \(text.name)")
            }
            let batch = reference.batch
            let rows = zip(batch.inputIds, batch.attentionMask).map { ids, mask in Array(ids.prefix(mask.reduce(0, +))) }
            let logits = try model.classify(rows, padID: reference.padID(in: batch))
            for (row, (ours, theirs)) in zip(logits, batch.logits).enumerated() {
                assertClose(ours, theirs, tolerance: 1e-4, "\(name) batch row \(row)")
            }
        }
    }

    func assertClose(_ a: [Float], _ b: [Float], tolerance: Float, _ label: String, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, label, line: line)
        let worst = zip(a, b).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(worst, tolerance, "\(label): \(a) vs \(b)", line: line)
    }
}

extension EncoderParityTests.Reference {
    /// The id the batch was padded with (what follows a row's last real token).
    func padID(in batch: Batch) -> Int {
        for (ids, mask) in zip(batch.inputIds, batch.attentionMask) where mask.contains(0) { return ids[mask.firstIndex(of: 0)!] }
        return 0
    }
}

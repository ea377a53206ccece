import Foundation
import Models
import Tensor
import XCTest

/// T5 v1.0 (ReLU, tied head scaled by d_model^-½) and v1.1 / FLAN-T5 (gated GELU, untied head, more decoder layers)
/// against transformers on scripts/fixtures/make_encoder_fixtures.py's tiny checkpoints: teacher-forced logits and
/// loss, and greedy generation alone and in a right-padded batch.
final class T5ParityTests: XCTestCase {
    struct Reference: Decodable {
        struct Pair: Decodable { let inputIds: [Int]; let labels: [Int]; let decoderInputIds: [Int]; let logits: [[Float]]; let loss: Float }
        struct Greedy: Decodable { let inputIds: [Int]; let generatedIds: [Int] }
        struct Batched: Decodable { let inputIds: [[Int]]; let attentionMask: [[Int]]; let generatedIds: [[Int]]; let eosIndex: [Int?]; let maxNewTokens: Int }
        let pairs: [Pair]
        let greedy: [Greedy]
        let batchedGreedy: Batched
    }

    static func load(_ name: String) throws -> (T5, Reference) {
        let directory = ParityTests.fixtures.appendingPathComponent(name)
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let reference = try decoder.decode(Reference.self, from: Data(contentsOf: directory.appendingPathComponent("reference.json")))
        return (try ModelDirectory.loadT5(directory), reference)
    }

    func testTeacherForcedLogitsAndLossMatchTransformers() throws {
        for name in ["tiny-t5", "tiny-t5-v1_1"] {
            let (model, reference) = try Self.load(name)
            var largest: Float = 0
            for (index, pair) in reference.pairs.enumerated() {
                let logits = try withNoGrad {
                    try model.logits(inputs: pair.inputIds, inputMask: pair.inputIds.map { _ in 1 }, batch: 1, inputLength: pair.inputIds.count,
                                     decoderInputs: pair.decoderInputIds, decoderLength: pair.decoderInputIds.count)
                }
                let expected = pair.logits.flatMap { $0 }
                let worst = zip(logits.scalars, expected).map { abs($0 - $1) }.max() ?? .infinity
                XCTAssertEqual(logits.count, expected.count, "\(name) pair \(index)")
                XCTAssertLessThanOrEqual(worst, 1e-4, "\(name) pair \(index)")
                largest = max(largest, worst)
                let loss = try logits.reshaped([pair.labels.count, model.vocabularySize]).crossEntropy(targets: pair.labels)
                XCTAssertEqual(try loss.item, pair.loss, accuracy: 1e-4, "\(name) pair \(index) loss")
            }
            print("\(name): logits within \(largest) of transformers")
        }
    }

    func testGreedyGenerationMatchesTransformers() throws {
        for name in ["tiny-t5", "tiny-t5-v1_1"] {
            let (model, reference) = try Self.load(name)
            let options = TextGenerator.Options(maxNewTokens: reference.batchedGreedy.maxNewTokens, sampling: .greedy,
                                                stopTokenIDs: [1], padTokenID: 0)
            for case let (index, greedy) in reference.greedy.enumerated() {
                XCTAssertEqual(try model.generate([greedy.inputIds], options: options)[0], greedy.generatedIds, "\(name) input \(index)")
            }
            let batched = reference.batchedGreedy
            let inputs = zip(batched.inputIds, batched.attentionMask).map { ids, mask in Array(ids.prefix(mask.reduce(0, +))) }
            let ours = try model.generate(inputs, options: options)
            for (row, (mine, theirs)) in zip(ours, batched.generatedIds).enumerated() {
                // transformers pads a finished row to the batch's length; ours stops at its EOS.
                let expected = batched.eosIndex[row].map { Array(theirs.prefix($0 + 1)) } ?? theirs
                XCTAssertEqual(mine, expected, "\(name) batch row \(row)")
            }
        }
    }
}

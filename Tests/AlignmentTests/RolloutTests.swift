import Alignment
import Foundation
import Models
import NN
import Tensor
import XCTest

final class RolloutTests: XCTestCase {
    static let models = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("ModelsTests/Fixtures")

    /// Log-probabilities read from one padded batch equal those of each sequence run alone, and greedy
    /// responses get the largest log-probability at every step.
    func testResponseLogProbabilitiesArePaddingInvariantAndMatchGreedy() throws {
        for name in ["tiny-gpt2", "tiny-llama"] {
            let model = try ModelDirectory.load(Self.models.appendingPathComponent(name))
            let queries = [[5, 6, 7], [9, 10, 11, 12, 13, 14], [20]]
            let responses = try TextGenerator(model: model).generate(queries, options: .init(maxNewTokens: 5, sampling: .greedy))
            let trimmed = [responses[0], Array(responses[1].prefix(3)), Array(responses[2].prefix(4))]
            let batch = RolloutBatch(queries: queries, responses: trimmed, padID: 0)
            let batched = try withNoGrad { try model.responseLogProbabilities(batch) }.scalars
            for (row, (query, response)) in zip(queries, trimmed).enumerated() {
                let ids = query + response
                let logits = try withNoGrad { try model.logits(ids, batch: 1, length: ids.count, context: .training(batch: 1, length: ids.count)) }
                let logProbabilities = try logits.logSoftmax()
                let vocabulary = model.vocabularySize
                for (t, token) in response.enumerated() {
                    let column = query.count - 1 + t
                    let alone = logProbabilities.scalars[column * vocabulary + token]
                    XCTAssertEqual(batched[row * batch.responseLength + t], alone, accuracy: 1e-5, "\(name) row \(row) token \(t)")
                    let best = logProbabilities.scalars[(column * vocabulary)..<((column + 1) * vocabulary)].max()!
                    XCTAssertEqual(alone, best, accuracy: 1e-6, "greedy picks the most likely token")
                }
            }
            XCTAssertEqual(batch.responseMask, [1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0])
        }
    }

    /// The same for T5: responses generated with the encoder's output and the decoder's cache score, in one padded
    /// batch, as the teacher-forced decoder scores each alone, and greedy tokens are the most likely ones.
    func testT5ResponseLogProbabilitiesMatchTeacherForcingAndGreedy() throws {
        for name in ["tiny-t5", "tiny-t5-v1_1"] {
            let model = try ModelDirectory.loadT5(Self.models.appendingPathComponent(name))
            let queries = [[5, 6, 7, 1], [9, 10, 11, 12, 13, 14, 1], [20, 1]]
            let responses = try model.generate(queries, options: .init(maxNewTokens: 5, sampling: .greedy))
            let trimmed = [responses[0], Array(responses[1].prefix(3)), Array(responses[2].prefix(4))]
            let batch = RolloutBatch(queries: queries, responses: trimmed, padID: 0)
            let batched = try withNoGrad { try model.responseLogProbabilities(batch) }.scalars
            let vocabulary = model.vocabularySize
            for (row, (query, response)) in zip(queries, trimmed).enumerated() {
                let decoderInputs = [model.config.startTokenID] + response.dropLast()
                let logits = try withNoGrad {
                    try model.logits(inputs: query, inputMask: query.map { _ in 1 }, batch: 1, inputLength: query.count,
                                     decoderInputs: decoderInputs, decoderLength: decoderInputs.count)
                }
                let logProbabilities = try logits.logSoftmax().scalars
                for (t, token) in response.enumerated() {
                    let alone = logProbabilities[t * vocabulary + token]
                    XCTAssertEqual(batched[row * batch.responseLength + t], alone, accuracy: 1e-5, "\(name) row \(row) token \(t)")
                    XCTAssertEqual(alone, logProbabilities[(t * vocabulary)..<((t + 1) * vocabulary)].max()!, accuracy: 1e-6,
                                   "\(name): greedy picks the most likely token")
                }
            }
        }
    }

    func testValuesReadTheColumnsThatPredictResponseTokens() throws {
        let model = try ModelDirectory.loadRewardModel(Self.models.appendingPathComponent("tiny-qwen2-reward"))
        let batch = RolloutBatch(queries: [[3, 4], [5, 6, 7]], responses: [[8, 9], [10]], padID: 0)
        let values = try withNoGrad { try model.responseValues(batch) }.scalars
        // Column queryLength − 1 + t of row 1 holds the prefix [5, 6, 7] (+ response); its reward reading must agree.
        let prefix = [5, 6, 7]
        let alone = try withNoGrad { try model.rewards(prefix, batch: 1, length: 3, keyMask: [1, 1, 1]) }.scalars[0] + model.offset
        XCTAssertEqual(values[2], alone, accuracy: 1e-5)
    }
}

import Foundation
import NN
import Tensor

/// How well a model predicts a token sequence.
public struct PerplexityResult: Sendable, Codable {
    /// Mean negative log-likelihood of each token given the ones before it, in nats.
    public let meanNLL: Double
    public let perplexity: Double
    /// How many tokens were predicted (the first token of each window has no prediction).
    public let predictedTokens: Int
}

extension CausalLanguageModel {
    /// Mean next-token NLL of `ids`; sequences longer than the model's positions (or `window`) are cut
    /// into consecutive windows, each predicted from its own start.
    public func perplexity(of ids: [Int], window: Int = 1024) throws -> PerplexityResult {
        guard ids.count >= 2 else { throw ModelError.generation("perplexity needs at least 2 tokens, got \(ids.count)") }
        let span = min(window, maxPositions ?? window)
        var totalNLL = 0.0, predicted = 0
        try withNoGrad {
            var start = 0
            while start < ids.count - 1 {
                let chunk = Array(ids[start..<min(ids.count, start + span)])
                if chunk.count >= 2 {
                    let logits = try self.logits(chunk, batch: 1, length: chunk.count,
                                                 context: .training(batch: 1, length: chunk.count))
                    let shifted = try logits.slice(axis: 1, 0..<(chunk.count - 1))
                    let loss = try shifted.crossEntropy(targets: Array(chunk.dropFirst()))
                    totalNLL += Double(try loss.item) * Double(chunk.count - 1)
                    predicted += chunk.count - 1
                }
                start += span
            }
        }
        let mean = totalNLL / Double(predicted)
        return PerplexityResult(meanNLL: mean, perplexity: Foundation.exp(mean), predictedTokens: predicted)
    }
}

extension T5 {
    /// Mean NLL of `ids` as the decoder's target after the encoder reads `input` (transformers' seq2seq loss; the
    /// first target token is predicted from the start token, so every token counts).
    public func perplexity(of ids: [Int], input: [Int]) throws -> PerplexityResult {
        guard !ids.isEmpty, !input.isEmpty else { throw ModelError.generation("perplexity needs an input and at least 1 target token") }
        let batch = RolloutBatch(queries: [input], responses: [ids], padID: config.padTokenId ?? 0)
        let mean = try withNoGrad { -Double(try responseLogProbabilities(batch).sum().item) / Double(ids.count) }
        return PerplexityResult(meanNLL: mean, perplexity: Foundation.exp(mean), predictedTokens: ids.count)
    }
}

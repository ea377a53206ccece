import Foundation
import Models
import NN
import Tensor
import Tokenizer

/// Log-likelihoods of continuations after contexts, as lm-evaluation-harness's `loglikelihood` requests compute
/// them for Hugging Face models, so multiple-choice scores compare with published ones. The context's trailing
/// whitespace moves to the continuation; a decoder-only model encodes context + continuation whole (with the
/// tokenizer's special tokens, e.g. Llama's BOS, as lm-eval does since it leaves BOS to the tokenizer) and the
/// continuation is what follows the context's own ids (an empty context is the BOS, else EOS, id); T5 reads the
/// context with its special tokens as input and the continuation without as target. Scored by the shared sequence
/// scoring, in batches.
public struct ContinuationScorer {
    public let model: any LanguageModel
    public let tokenizer: Tokenizer
    public let batchSize: Int
    /// The context a decoder-only model was made for; longer contexts lose their start, as lm-eval truncates them.
    let maxLength: Int?

    public init(directory: URL, batchSize: Int) throws {
        model = try ModelDirectory.loadLanguageModel(directory)
        tokenizer = try Tokenizer(directory: directory)
        maxLength = (model as? any CausalLanguageModel)?.config.contextLength
        self.batchSize = batchSize
    }

    /// The (context, continuation) ids lm-eval's `_encode_pair` makes.
    public func encode(context: String, continuation: String) -> (context: [Int], continuation: [Int]) {
        let spaces = context.reversed().prefix(while: \.isWhitespace).count
        let (context, continuation) = (String(context.dropLast(spaces)), String(context.suffix(spaces)) + continuation)
        guard model is any CausalLanguageModel else {
            return (tokenizer.encode(context), tokenizer.encode(continuation, addSpecialTokens: false))
        }
        guard !context.isEmpty else { return ([prefixID], encodeAsHarness(continuation)) }
        let (whole, contextIDs) = (encodeAsHarness(context + continuation), encodeAsHarness(context))
        return (contextIDs, Array(whole.dropFirst(contextIDs.count)))
    }

    /// What an empty context stands for: the BOS id, else the EOS id.
    private var prefixID: Int { tokenizer.bosTokenID ?? tokenizer.eosTokenID ?? 0 }

    /// lm-eval's `tok_encode` since it leaves BOS to the tokenizer: its special tokens, unless the text already
    /// starts with the prefix token's text.
    private func encodeAsHarness(_ text: String) -> [Int] {
        tokenizer.encode(text, addSpecialTokens: !text.hasPrefix(tokenizer.decode([prefixID])))
    }

    /// Σ log p(continuation tokens | context) for each pair, in order; `progress(done, total)` after each batch.
    public func logLikelihoods(_ pairs: [(context: String, continuation: String)],
                               progress: (Int, Int) -> Void = { _, _ in }) throws -> [Double] {
        var encoded = pairs.map { encode(context: $0.context, continuation: $0.continuation) }
        if let maxLength {
            // lm-eval keeps the last maxLength + 1 ids of context + continuation; the last is never read.
            encoded = encoded.map { pair in
                let excess = pair.context.count + pair.continuation.count - 1 - maxLength
                return excess > 0 ? (Array(pair.context.dropFirst(excess)), pair.continuation) : pair
            }
        }
        var scores: [Double] = []
        scores.reserveCapacity(pairs.count)
        for start in stride(from: 0, to: encoded.count, by: batchSize) {
            let chunk = encoded[start..<min(encoded.count, start + batchSize)]
            let batch = RolloutBatch(queries: chunk.map(\.context), responses: chunk.map(\.continuation), padID: tokenizer.paddingID)
            scores += try withNoGrad { try model.sequenceLogProbabilities(batch) }.scalars.map(Double.init)
            progress(scores.count, encoded.count)
        }
        return scores
    }
}

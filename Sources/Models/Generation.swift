import Foundation
import NN
import Tensor

/// Autoregressive generation for one or many prompts at once.
public struct TextGenerator {
    public let model: any CausalLanguageModel

    public init(model: any CausalLanguageModel) { self.model = model }

    public struct Options: Sendable {
        public var maxNewTokens = 64
        public var sampling = SamplingOptions()
        /// A row stops after producing one of these (typically the tokenizer's EOS ids).
        public var stopTokenIDs: Set<Int> = []
        /// Fills the left of shorter prompts in a batch; never attended to.
        public var padTokenID = 0
        /// Off only to measure what the cache saves: every step then recomputes the whole sequence.
        public var useCache = true
        /// Finished rows leave the batch (the cache keeps the live ones). Off when something outside the model is
        /// laid out by batch row for the whole call, such as per-row adapter weights (`LoRAAdapters.withRowWeights`).
        public var dropsFinishedRows = true

        public init(maxNewTokens: Int = 64, sampling: SamplingOptions = SamplingOptions(), stopTokenIDs: Set<Int> = [],
                    padTokenID: Int = 0, useCache: Bool = true) {
            (self.maxNewTokens, self.sampling, self.stopTokenIDs) = (maxNewTokens, sampling, stopTokenIDs)
            (self.padTokenID, self.useCache) = (padTokenID, useCache)
        }
    }

    /// Refuses, before allocating, a generation past the model's positions or larger than the machine's memory: the
    /// KV cache, the last position's logits and the prompt pass's activations (roughly: all grow with batch × length).
    private func checkFits(batch: Int, promptLength: Int, maxNewTokens: Int) throws {
        let length = promptLength + maxNewTokens
        if let positions = model.maxPositions, length > positions {
            throw ModelError.generation("a \(promptLength)-token prompt and \(maxNewTokens) new tokens need \(length) positions, "
                                        + "more than the model's \(positions): shorten the prompt or the new tokens")
        }
        let (rows, tokens) = (Double(batch), Double(length))
        let cache = 2 * Double(model.layerCount) * rows * tokens * Double(model.kvWidth)
        let promptPass = rows * (Double(model.vocabularySize) + Double(promptLength) * 8 * Double(model.kvWidth))
        if let overrun = MemoryBudget.overrun(4 * (cache + promptPass)) {
            throw ModelError.generation("\(batch) sequences of up to \(length) tokens need \(overrun): generate fewer at a time or shorter")
        }
    }

    /// New tokens for each prompt (a stop token, when one ends the row, is included). Prompts of different
    /// lengths are left-padded into one batch. `onToken(row, token)` sees every new token as it is made and
    /// returns false to end that row early (e.g. when a stop string appears). `rowSampling` gives each row its
    /// own sampling (seed included) instead of `options.sampling` with the seed advanced by the row index: rows of
    /// different requests batched together.
    public func generate(_ prompts: [[Int]], options: Options, rowSampling: [SamplingOptions]? = nil,
                         onToken: (_ row: Int, _ token: Int) -> Bool = { _, _ in true }) throws -> [[Int]] {
        guard !prompts.isEmpty, prompts.allSatisfy({ !$0.isEmpty }) else {
            throw ModelError.generation("every prompt needs at least one token")
        }
        if let rowSampling, rowSampling.count != prompts.count {
            throw ModelError.generation("\(rowSampling.count) sampling settings for \(prompts.count) prompts")
        }
        let batch = prompts.count
        let promptLength = prompts.map(\.count).max()!
        try checkFits(batch: batch, promptLength: promptLength, maxNewTokens: options.maxNewTokens)
        var sequences = prompts.map { [Int](repeating: options.padTokenID, count: promptLength - $0.count) + $0 }
        var keyMask = prompts.map { [Float](repeating: 0, count: promptLength - $0.count) + [Float](repeating: 1, count: $0.count) }
        var generated = [[Int]](repeating: [], count: batch)
        var samplers = (0..<batch).map { row in
            if let rowSampling { return TokenSampler(options: rowSampling[row]) }
            var sampling = options.sampling
            sampling.seed &+= UInt64(row)
            return TokenSampler(options: sampling)
        }
        var cache = options.useCache ? model.makeCache(batch: batch, capacity: promptLength + options.maxNewTokens) : nil
        // The rows still generating, in batch order; the cache holds these rows (and, until it is next compacted,
        // some finished ones: `cached`).
        var (active, cached) = (Array(0..<batch), Array(0..<batch))

        try withNoGrad {
            var pending = sequences.flatMap { $0 }  // tokens not yet run through the model, for the `cached` rows
            var stepLength = promptLength
            for _ in 0..<options.maxNewTokens {
                let total = sequences[cached[0]].count
                let start = total - stepLength
                let positions = cached.flatMap { row in
                    let padding = promptLength - prompts[row].count
                    return (start..<total).map { max(0, $0 - padding) }
                }
                let context = AttentionContext(positions: positions, keyMask: cached.flatMap { keyMask[$0] }, cache: cache)
                let hidden = try model.hiddenStates(pending, batch: cached.count, length: stepLength, context: context)
                let logits = try model.languageModelHead(try hidden.slice(axis: 1, (stepLength - 1)..<stepLength))
                let vocabulary = model.vocabularySize
                let live = Set(active)
                let next = logits.withUnsafeBufferPointer { rows in
                    cached.enumerated().map { slot, row in
                        live.contains(row) ? samplers[row].sample(rows.baseAddress! + slot * vocabulary, count: vocabulary) : options.padTokenID
                    }
                }
                for (slot, row) in cached.enumerated() {
                    if live.contains(row) { generated[row].append(next[slot]) }
                    sequences[row].append(next[slot])
                    keyMask[row].append(1)
                }
                active = active.filter { row in
                    let token = generated[row].last!
                    return !options.stopTokenIDs.contains(token) && onToken(row, token)
                }
                if active.isEmpty { break }
                // Once a quarter of the cached rows has finished, the cache keeps only the live ones: a few copies
                // in all, and later steps stop computing rows nobody reads.
                if options.dropsFinishedRows, let current = cache, active.count * 4 <= cached.count * 3 {
                    cache = current.keepingRows(active.map { cached.firstIndex(of: $0)! })
                    cached = active
                }
                if cache != nil {
                    pending = cached.map { sequences[$0].last! }
                    stepLength = 1
                } else {
                    if options.dropsFinishedRows { cached = active }
                    pending = cached.flatMap { sequences[$0] }
                    stepLength = sequences[cached[0]].count
                }
            }
        }
        return generated
    }
}

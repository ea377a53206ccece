import Foundation
import NN
import Tensor

extension T5 {
    /// New tokens for each input (a stop token, when one ends the row, is included): the inputs are encoded once
    /// (right-padded, masked), then the decoder runs one token at a time from the start token with its KV cache,
    /// reusing the encoder's projected keys and values. Rows sample with `options.sampling`, the seed advanced by
    /// the row index, as `TextGenerator` does. `onToken(row, token)` sees each new token and returns false to end
    /// that row early.
    public func generate(_ inputs: [[Int]], options: TextGenerator.Options,
                         onToken: (_ row: Int, _ token: Int) -> Bool) throws -> [[Int]] {
        guard !inputs.isEmpty, inputs.allSatisfy({ !$0.isEmpty }) else { throw ModelError.generation("every input needs at least one token") }
        let (batch, length) = (inputs.count, inputs.map(\.count).max()!)
        let ids = inputs.flatMap { $0 + Array(repeating: config.padTokenId ?? 0, count: length - $0.count) }
        let mask = inputs.flatMap { [Float](repeating: 1, count: $0.count) + [Float](repeating: 0, count: length - $0.count) }
        var samplers = (0..<batch).map { row in
            var sampling = options.sampling
            sampling.seed &+= UInt64(row)
            return TokenSampler(options: sampling)
        }
        var generated = [[Int]](repeating: [], count: batch)
        var finished = [Bool](repeating: false, count: batch)
        try withNoGrad {
            let encoded = T5EncoderOutput(states: try encode(ids, batch: batch, length: length, keyMask: mask), keyMask: mask)
            let cache = makeDecoderCache(batch: batch, capacity: options.maxNewTokens + 1)
            var next = [Int](repeating: config.startTokenID, count: batch)
            for _ in 0..<options.maxNewTokens {
                let logits = try languageModelHead(decode(next, batch: batch, length: 1, encoded: encoded, cache: cache))
                next = logits.withUnsafeBufferPointer { rows in
                    (0..<batch).map { row in
                        finished[row] ? options.padTokenID : samplers[row].sample(rows.baseAddress! + row * vocabularySize, count: vocabularySize)
                    }
                }
                for row in 0..<batch where !finished[row] {
                    generated[row].append(next[row])
                    if options.stopTokenIDs.contains(next[row]) || !onToken(row, next[row]) { finished[row] = true }
                }
                if finished.allSatisfy({ $0 }) { break }
            }
        }
        return generated
    }
}

import Data
import Models
import NN
import Tensor

/// Queries and sampled responses laid out as PPO scores them: each row is the query left-padded to a common
/// length, then the response right-padded to a common length, so response token t sits at column
/// `queryLength + t` in every row.
public struct RolloutBatch: Sendable {
    public let size: Int
    public let queryLength: Int
    public let responseLength: Int
    /// [size · (queryLength + responseLength)]
    public let ids: [Int]
    /// 1 for real tokens, 0 for padding, same layout as `ids`.
    public let keyMask: [Float]
    /// Each token's position counted from its row's first real token.
    public let positions: [Int]
    /// [size · responseLength]: 1 where the response has a token.
    public let responseMask: [Float]
    public let responses: [[Int]]

    /// `queryLength`/`responseLength` default to the longest query and response; larger values keep a
    /// minibatch in the same columns as the rollout it was cut from.
    public init(queries: [[Int]], responses: [[Int]], padID: Int, queryLength: Int? = nil, responseLength: Int? = nil) {
        size = queries.count
        self.queryLength = max(queryLength ?? 0, queries.map(\.count).max() ?? 0)
        self.responseLength = max(responseLength ?? 1, responses.map(\.count).max() ?? 0)
        self.responses = responses
        var ids: [Int] = [], mask: [Float] = [], positions: [Int] = [], responseMask: [Float] = []
        for (query, response) in zip(queries, responses) {
            let left = self.queryLength - query.count, right = self.responseLength - response.count
            ids += [Int](repeating: padID, count: left) + query + response + [Int](repeating: padID, count: right)
            mask += [Float](repeating: 0, count: left) + [Float](repeating: 1, count: query.count + response.count)
                + [Float](repeating: 0, count: right)
            positions += [Int](repeating: 0, count: left) + Array(0..<(query.count + response.count)) + [Int](repeating: 0, count: right)
            responseMask += [Float](repeating: 1, count: response.count) + [Float](repeating: 0, count: right)
        }
        (self.ids, self.keyMask, self.positions, self.responseMask) = (ids, mask, positions, responseMask)
    }

    public var length: Int { queryLength + responseLength }

    var context: AttentionContext { AttentionContext(positions: positions, keyMask: keyMask.contains(0) ? keyMask : nil) }

    /// Response ids [size · responseLength], padding replaced by `fill` (a valid id to gather at).
    func paddedResponses(fill: Int = 0) -> [Int] {
        responses.flatMap { $0 + [Int](repeating: fill, count: responseLength - $0.count) }
    }

    /// Response ids [size · responseLength] with `Tensor.ignoreIndex` at padding: the targets of the response positions.
    var responseTargets: [Int] {
        responses.flatMap { $0 + [Int](repeating: Tensor.ignoreIndex, count: responseLength - $0.count) }
    }

    /// Per-row hidden states for the columns that predict each response token (queryLength − 1 … length − 2).
    func predictingColumns(_ hidden: Tensor) throws -> Tensor {
        try hidden.slice(axis: 1, (queryLength - 1)..<(length - 1))
    }
}

extension CausalLanguageModel {
    /// log π(response token | everything before it) for every response position, [size, responseLength], 0 at
    /// padding, with the logits divided by `temperature` first (as the rollouts were sampled). Recorded for backward.
    /// The one way RLHFKit scores sequences: PPO's rollouts, DPO's and KTO's completions, evaluation's KL.
    public func responseLogProbabilities(_ batch: RolloutBatch, temperature: Float = 1) throws -> Tensor {
        let hidden = try hiddenStates(batch.ids, batch: batch.size, length: batch.length, context: batch.context)
        let logits = try languageModelHead(try batch.predictingColumns(hidden))
        return try (temperature == 1 ? logits : logits * (1 / temperature)).tokenLogProbabilities(targets: batch.responseTargets)
    }

    /// log π(response | query) of each row, [size]: the sum over its response tokens.
    public func sequenceLogProbabilities(_ batch: RolloutBatch) throws -> Tensor {
        try responseLogProbabilities(batch).sum(axis: 1)
    }

    /// `responseLogProbabilities` together with the distributions they were read from: `logits` [size,
    /// responseLength, V] is the log-softmax of the temperature-scaled logits, which has the same softmax (and so
    /// the same entropy) as the scaled logits themselves. It is the tensor the log-softmax keeps for its backward
    /// anyway, so holding it costs no memory of its own. Recorded for backward.
    public func responseLogProbabilitiesAndLogits(_ batch: RolloutBatch, temperature: Float = 1) throws
        -> (logprobs: Tensor, logits: Tensor) {
        let hidden = try hiddenStates(batch.ids, batch: batch.size, length: batch.length, context: batch.context)
        let scaled = try languageModelHead(try batch.predictingColumns(hidden)) * (1 / temperature)
        let logSoftmax = try scaled.logSoftmax()
        return (try logSoftmax.gather(lastAxis: batch.paddedResponses()), logSoftmax)
    }
}

extension Tensor {
    /// The given rows of a [batch, L] tensor, detached: a minibatch's share of rollout-time values.
    func rows(_ rows: [Int]) throws -> Tensor {
        try Tensor.embedding(detached(), ids: rows, shape: [rows.count])
    }
}

extension RewardModel {
    /// The head's output at every column predicting a response token, [size, responseLength]: a critic's
    /// value estimates when this model serves as the value model (TRL's critic reads the same columns).
    public func responseValues(_ batch: RolloutBatch) throws -> Tensor {
        let hidden = try backbone.hiddenStates(batch.ids, batch: batch.size, length: batch.length, context: batch.context)
        let scores = try score(try batch.predictingColumns(hidden))
        return try scores.gather(lastAxis: Array(repeating: positiveLabel, count: batch.size * batch.responseLength))
    }
}

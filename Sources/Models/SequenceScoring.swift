import Tensor

extension LanguageModel {
    /// log π(response token | query and the response before it) for every response position, [size, responseLength],
    /// 0 at padding, with the logits divided by `temperature` first (as the rollouts were sampled). Recorded for
    /// backward. The one way RLHFKit scores sequences: PPO's rollouts, DPO's and KTO's completions, evaluation's KL.
    public func responseLogProbabilities(_ batch: RolloutBatch, temperature: Float = 1) throws -> Tensor {
        try responseLogProbabilities(states: try responseHiddenStates(batch), batch, temperature: temperature)
    }

    /// The same from `responseHiddenStates(batch)` already computed (a shared value head reads them too).
    public func responseLogProbabilities(states: Tensor, _ batch: RolloutBatch, temperature: Float = 1) throws -> Tensor {
        let logits = try languageModelHead(states)
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
        try responseLogProbabilitiesAndLogits(states: try responseHiddenStates(batch), batch, temperature: temperature)
    }

    /// The same from `responseHiddenStates(batch)` already computed.
    public func responseLogProbabilitiesAndLogits(states: Tensor, _ batch: RolloutBatch, temperature: Float = 1) throws
        -> (logprobs: Tensor, logits: Tensor) {
        let scaled = try languageModelHead(states) * (1 / temperature)
        let logSoftmax = try scaled.logSoftmax()
        return (try logSoftmax.gather(lastAxis: batch.paddedResponses()), logSoftmax)
    }
}

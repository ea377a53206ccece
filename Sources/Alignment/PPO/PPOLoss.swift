import Distributed
import Tensor

/// One PPO micro-batch's statistics, TRL's per-micro-batch values (ppo_trainer.py:837-868).
public struct PPOStats: Codable, Sendable, Equatable {
    /// The total loss: policyLoss + c1 · valueLoss − c2 · (masked mean entropy).
    public var loss: Float
    /// `pg_loss`: masked_mean(max(−A·ratio, −A·clamp(ratio, 1 − ε, 1 + ε)), token mask).
    public var policyLoss: Float
    /// `vf_loss`: 0.5 · masked_mean(max((vpred − R)², (vpredclipped − R)²), value mask).
    public var valueLoss: Float
    /// `pg_clipfrac`: share of response tokens where the clipped surrogate is the larger (the clip is active).
    public var policyClipFraction: Float
    /// `vf_clipfrac`: share of value-mask columns where the clipped value loss is the larger.
    public var valueClipFraction: Float
    /// `approxkl`: 0.5 · mean((new − old)²) over every column of the micro-batch, padding included (TRL's plain
    /// `.mean()`; the difference is 0 at padding, so padding only enlarges the denominator).
    public var approxKL: Float
    /// `ratio.mean()` over every column (1 at padding).
    public var ratio: Float
    /// `entropy.mean()` over every column, padding included, from the temperature-scaled logits; nil when the
    /// loss was computed without logits.
    public var entropy: Float?

    public init(loss: Float, policyLoss: Float, valueLoss: Float, policyClipFraction: Float, valueClipFraction: Float,
                approxKL: Float, ratio: Float, entropy: Float?) {
        (self.loss, self.policyLoss, self.valueLoss) = (loss, policyLoss, valueLoss)
        (self.policyClipFraction, self.valueClipFraction) = (policyClipFraction, valueClipFraction)
        (self.approxKL, self.ratio, self.entropy) = (approxKL, ratio, entropy)
    }
}

extension PPOMath {
    /// The PPO loss of one micro-batch, recorded for backward (ppo_trainer.py:823-847):
    ///
    ///     new_logprobs ← invalidLogprob at padding;  vpred ← 0 outside the value mask       (:824-828)
    ///     vpredclipped = clamp(vpred, values − cliprange_value, values + cliprange_value)    (:829-833)
    ///     vf_loss = 0.5 · masked_mean(max((vpred − returns)², (vpredclipped − returns)²), value mask)  (:834-837)
    ///     ratio = exp(new_logprobs − old_logprobs)                                            (:841-842)
    ///     pg_loss = masked_mean(max(−A · ratio, −A · clamp(ratio, 1 − ε, 1 + ε)), token mask)  (:843-846)
    ///     loss = pg_loss + vf_coef · vf_loss                                                  (:847)
    ///     loss −= c2 · masked_mean(entropy, token mask)   (not TRL; only when entropyCoefficient ≠ 0)
    ///
    /// Gradients reach `newLogprobs` and `newValues` (and through them the policy and critic); every other input
    /// is treated as a constant. Padded columns get no gradient: they are overwritten as TRL overwrites them, so
    /// the caller may pass raw model outputs for all L columns. Throws on a micro-batch without response tokens
    /// (TRL's masked mean would be NaN).
    ///
    /// - Parameters:
    ///   - newLogprobs: [batch, L] log π_θ of the rollout's tokens under the current policy (temperature-scaled).
    ///   - newValues: [batch, L] the critic's current values (TRL's `vpred`).
    ///   - logits: [batch, L, V] the temperature-scaled logits `newLogprobs` came from, or their log-softmax (the
    ///     same distributions); needed for the entropy statistic and the entropy bonus, optional otherwise.
    ///   - oldLogprobs, oldValues, advantages, returns: [batch, L] from `rewards` and `advantages` (the rows of this
    ///     micro-batch): `PPORewards.logprobs`, `PPOAdvantages.values`, `.advantages`, `.returns`.
    ///   - whole: in a data-parallel job, the padding of the whole micro-batch of which these are one rank's rows:
    ///     every mean (loss and statistics) divides by its counts, so the ranks' losses and statistics sum to one
    ///     process's. Nil: these rows are the micro-batch.
    public static func loss(newLogprobs: Tensor, newValues: Tensor, logits: Tensor? = nil, oldLogprobs: Tensor,
                            oldValues: Tensor, advantages: Tensor, returns: Tensor, padding: ResponsePadding,
                            normalizedOver whole: ResponsePadding? = nil,
                            hyperparameters: PPOHyperparameters) throws -> (loss: Tensor, stats: PPOStats) {
        let op = "PPOMath.loss"
        for (tensor, name) in [(newLogprobs, "newLogprobs"), (newValues, "newValues"), (oldLogprobs, "oldLogprobs"),
                               (oldValues, "oldValues"), (advantages, "advantages"), (returns, "returns")] {
            try padding.check(tensor, name, op: op)
        }
        if let logits, logits.rank != 3 || Array(logits.shape.prefix(2)) != padding.shape {
            throw TensorError.shapeMismatch(op: op, "logits have shape \(logits.shape), expected \(padding.shape + [-1])")
        }
        let c2 = hyperparameters.entropyCoefficient
        if c2 != 0, logits == nil {
            throw TensorError.invalidArgument(op: op, "the entropy bonus (c2 = \(c2)) needs the logits")
        }
        let (tokenMask, valueMask) = (padding.tokenMask, padding.valueMask)
        let counts = whole.map { whole in
            (tokens: whole.tokenMask.scalars.reduce(0, +), values: whole.valueMask.scalars.reduce(0, +),
             columns: Float(whole.batchSize * whole.responseLength))
        }
        let newLP = try newLogprobs.masked(keeping: tokenMask, fill: invalidLogprob)
        let vpred = try newValues.masked(keeping: valueMask, fill: 0)
        let oldLP = try oldLogprobs.detached().masked(keeping: tokenMask, fill: invalidLogprob)
        let oldV = try oldValues.detached().masked(keeping: valueMask, fill: 0)
        let (negA, R) = (advantages.detached().negated(), returns.detached())

        // Value loss. torch.clamp(x, lo, hi) = min(max(x, lo), hi), the gradient passing where lo ≤ x ≤ hi.
        let cv = hyperparameters.clipRangeValue
        let vpredClipped = try Tensor.minimum(try Tensor.maximum(vpred, oldV - cv), oldV + cv)
        let vfError1 = try vpred - R, vfError2 = try vpredClipped - R
        let vfLosses1 = try vfError1 * vfError1, vfLosses2 = try vfError2 * vfError2
        let vfLoss = try maskedMean(try Tensor.maximum(vfLosses1, vfLosses2), mask: valueMask, count: counts?.values) * 0.5

        // Clipped surrogate.
        let eps = hyperparameters.clipRange
        let logRatio = try newLP - oldLP
        let ratio = logRatio.exp()
        let pgLosses = try negA * ratio
        let pgLosses2 = try negA * ratio.clamped(min: 1 - eps, max: 1 + eps)
        let pgLoss = try maskedMean(try Tensor.maximum(pgLosses, pgLosses2), mask: tokenMask, count: counts?.tokens)

        var loss = try pgLoss + vfLoss * hyperparameters.valueCoefficient
        var entropyMean: Float?
        if let logits {
            let entropy = c2 != 0 ? try entropy(logits: logits) : try withNoGrad { try Self.entropy(logits: logits) }
            if c2 != 0 { loss = try loss - (try maskedMean(entropy, mask: tokenMask, count: counts?.tokens)) * c2 }
            entropyMean = mean(entropy.scalars, count: counts?.columns)
        }

        let stats = PPOStats(
            loss: try loss.item, policyLoss: try pgLoss.item, valueLoss: try vfLoss.item,
            policyClipFraction: fraction(pgLosses2.scalars, above: pgLosses.scalars, where: tokenMask.scalars, count: counts?.tokens),
            valueClipFraction: fraction(vfLosses2.scalars, above: vfLosses1.scalars, where: valueMask.scalars, count: counts?.values),
            approxKL: 0.5 * mean(logRatio.scalars.map { $0 * $0 }, count: counts?.columns), ratio: mean(ratio.scalars, count: counts?.columns),
            entropy: entropyMean)
        return (loss, stats)
    }

    /// Per-position entropy of the softmax over the last axis, H = −Σ p·log p (TRL: logsumexp(z) − Σ softmax(z)·z,
    /// ppo_trainer.py:855-856). [..., V] → [...], differentiable; fused, so no [..., V] tensor is allocated
    /// beyond the gradient.
    public static func entropy(logits: Tensor) throws -> Tensor {
        try logits.softmaxEntropy()
    }

    /// masked_mean of a 0/1 comparison: the share of masked entries (or of `count`) where a > b.
    private static func fraction(_ a: [Float], above b: [Float], where mask: [Float], count: Float?) -> Float {
        var hits: Float = 0, total: Float = 0
        for i in a.indices where mask[i] != 0 {
            total += 1
            if a[i] > b[i] { hits += 1 }
        }
        return hits / (count ?? total)
    }

    private static func mean(_ values: [Float], count: Float?) -> Float {
        Float(values.reduce(0.0) { $0 + Double($1) } / Double(count ?? Float(Swift.max(values.count, 1))))
    }
}

// MARK: - Metrics, named as TRL logs them (ppo_trainer.py:881-905)

extension PPORewards {
    /// The rollout's objective metrics:
    ///
    ///     objective/kl               = mean over responses of Σ_t kl                         (:882)
    ///     objective/entropy          = mean over responses of Σ_t −logprobs (tokens only)     (:884)
    ///     objective/non_score_reward = mean over responses of Σ_t non_score_reward            (:885)
    ///     objective/rlhf_reward      = objective/non_score_reward + mean(scores)              (:886)
    ///     objective/scores           = mean(scores), after the missing-EOS penalty            (:896)
    public var metrics: [String: Double] {
        let (batch, length) = (padding.batchSize, padding.responseLength)
        let (kl, nonScore, logprobs) = (kl.scalars, nonScoreReward.scalars, logprobs.scalars)
        var klSum = 0.0, entropySum = 0.0, nonScoreSum = 0.0
        for b in 0..<batch {
            for t in 0..<length {
                let i = b * length + t
                klSum += Double(kl[i])
                nonScoreSum += Double(nonScore[i])
                if padding.isToken(b, t) { entropySum -= Double(logprobs[i]) }
            }
        }
        let n = Double(batch), meanScore = scores.reduce(0.0) { $0 + Double($1) } / n
        return ["objective/kl": klSum / n, "objective/entropy": entropySum / n,
                "objective/non_score_reward": nonScoreSum / n, "objective/rlhf_reward": nonScoreSum / n + meanScore,
                "objective/scores": meanScore]
    }
}

/// The statistics of every micro-batch of one PPO iteration (all epochs), reduced to TRL's logged metrics:
/// each `*_avg` is the mean over micro-batches (:897-903) and `val/ratio_var` the unbiased variance of the
/// micro-batches' mean ratios (:904; TRL's torch `var()` gives NaN for a single micro-batch, reported here as 0
/// so that metrics.jsonl stays JSON).
public struct PPOStatsLog: Codable, Sendable, Equatable {
    public private(set) var entries: [PPOStats] = []

    public init() {}

    public mutating func append(_ stats: PPOStats) { entries.append(stats) }

    /// Every rank's log, entry by entry: in a data-parallel job each entry is a rank's share of a micro-batch's
    /// statistics (`PPOMath.loss(normalizedOver:)`), and their sums are one process's.
    func summed(over communicator: any Communicator) throws -> PPOStatsLog {
        var values = entries.flatMap { entry in
            [entry.loss, entry.policyLoss, entry.valueLoss, entry.policyClipFraction, entry.valueClipFraction, entry.approxKL, entry.ratio,
             entry.entropy ?? 0].map(Double.init)
        }
        try communicator.sum(&values)
        var summed = PPOStatsLog()
        for (index, entry) in entries.enumerated() {
            let v = values[(index * 8)..<(index * 8 + 8)].map { Float($0) }
            summed.append(PPOStats(loss: v[0], policyLoss: v[1], valueLoss: v[2], policyClipFraction: v[3], valueClipFraction: v[4],
                                   approxKL: v[5], ratio: v[6], entropy: entry.entropy == nil ? nil : v[7]))
        }
        return summed
    }

    public var metrics: [String: Double] {
        guard !entries.isEmpty else { return [:] }
        func average(_ value: (PPOStats) -> Float) -> Double {
            entries.reduce(0.0) { $0 + Double(value($1)) } / Double(entries.count)
        }
        let ratios = entries.map { Double($0.ratio) }
        let ratioMean = ratios.reduce(0, +) / Double(ratios.count)
        let ratioVariance = ratios.count < 2 ? 0 : ratios.reduce(0) { $0 + ($1 - ratioMean) * ($1 - ratioMean) } / Double(ratios.count - 1)
        var metrics = [
            "policy/approxkl_avg": average(\.approxKL), "policy/clipfrac_avg": average(\.policyClipFraction),
            "loss/policy_avg": average(\.policyLoss), "loss/value_avg": average(\.valueLoss),
            "val/clipfrac_avg": average(\.valueClipFraction), "val/ratio": ratioMean, "val/ratio_var": ratioVariance,
        ]
        let entropies = entries.compactMap(\.entropy)
        if !entropies.isEmpty {
            metrics["policy/entropy_avg"] = entropies.reduce(0.0) { $0 + Double($1) } / Double(entropies.count)
        }
        return metrics
    }
}

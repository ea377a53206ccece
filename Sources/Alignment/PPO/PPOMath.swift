import Data
import Foundation
import Tensor

// The arithmetic of one PPO iteration for RLHF, as TRL 1.12.0 computes it in `PPOTrainer.train()`
// (trl/experimental/ppo/ppo_trainer.py; line numbers below are that file's). Everything works on [batch, L]
// tensors, L = the response length of the rollout batch, with each response right-padded.
//
//   rollout  →  rewards(...)     per-token reward −β·KL, the score added once per response      (:757-779)
//            →  advantages(...)  optional reward whitening, GAE(γ, λ), returns, whitened advantages (:781-798)
//   each PPO micro-batch  →  loss(...)  clipped surrogate + c1 · clipped value loss [− c2 · entropy] (:820-868)
//   per iteration  →  PPORewards.metrics and PPOStatsLog.metrics, named as TRL logs them            (:881-905)
//
// scripts/fixtures/make_ppo_fixture.py runs TRL's code on fixed tensors; PPOMathTests matches it within 1e-5.

/// PPO's knobs, named after TRL's `PPOConfig` fields, with TRL's defaults.
public struct PPOHyperparameters: Codable, Sendable, Equatable {
    /// `kl_coef`, β: the KL penalty's weight, or its starting value when `klTarget` is set.
    public var klCoefficient: Float = 0.05
    /// `kl_estimator`: how the per-token KL is estimated from the two log-probabilities.
    public var klEstimator: KLEstimator = .k1
    /// Not in TRL 1.12's PPO (its v0 trainer's `adap_kl_ctrl`/`target`/`horizon`): when set, an adaptive controller
    /// (Ziegler et al. 2019) steers β so that `objective/kl` approaches this target; nil keeps β fixed.
    public var klTarget: Float? = nil
    /// The adaptive controller's horizon, in episodes (TRL v0's default).
    public var klHorizon: Float = 10_000
    /// `missing_eos_penalty`: subtracted from the score of every response that has no EOS token; nil = none.
    public var missingEOSPenalty: Float? = nil
    /// `whiten_rewards`: whiten the per-token rewards (without shifting their mean) before GAE.
    public var whitenRewards = false
    /// `gamma`, γ: discount.
    public var gamma: Float = 1
    /// `lam`, λ: GAE's bias–variance trade-off.
    public var lambda: Float = 0.95
    /// `cliprange`, ε: the policy ratio is clipped to [1 − ε, 1 + ε].
    public var clipRange: Float = 0.2
    /// `cliprange_value`: new values are clipped to within this distance of the rollout's values.
    public var clipRangeValue: Float = 0.2
    /// `vf_coef`, c1: the value loss's weight in the total loss.
    public var valueCoefficient: Float = 0.1
    /// c2, the entropy bonus's weight (`loss −= c2 · entropy`). Not in TRL 1.12, which adds no entropy bonus;
    /// 0 (the default) gives TRL's loss exactly.
    public var entropyCoefficient: Float = 0

    /// The flags' names (TRL's, where it has the knob).
    enum CodingKeys: String, CodingKey {
        case klCoefficient = "klCoef", klEstimator, klTarget, klHorizon, missingEOSPenalty = "missingEosPenalty", whitenRewards,
             gamma, lambda, clipRange = "cliprange", clipRangeValue = "cliprangeValue", valueCoefficient = "vfCoef",
             entropyCoefficient = "entCoef"
    }

    public init() {}

    func validate() throws {
        try Check.nonNegative(klCoefficient, "kl_coef")
        try Check.nonNegative(entropyCoefficient, "ent_coef")
        if let klTarget { try Check.positive(klTarget, "kl_target") }
        try Check.positive(klHorizon, "kl_horizon")
        try Check.positive(clipRange, "cliprange")
        try Check.positive(clipRangeValue, "cliprange_value")
        try Check.nonNegative(valueCoefficient, "vf_coef")
        if !(0...1).contains(gamma) || !(0...1).contains(lambda) { throw JobError("gamma and lambda must be in [0, 1]") }
    }

    /// The KL controller these settings describe: adaptive when `klTarget` is set, else fixed at `klCoefficient`.
    public func makeKLController() throws -> KLController {
        guard let klTarget else { return .fixed(Double(klCoefficient)) }
        return try .adaptive(initial: Double(klCoefficient), target: Double(klTarget), horizon: Double(klHorizon))
    }
}

/// TRL's `kl_estimator`, after http://joschu.net/blog/kl-approx.html, with log r = ref_logprob − logprob.
public enum KLEstimator: String, Codable, Sendable, CaseIterable {
    /// kl = −log r = logprob − ref_logprob: unbiased, can be negative per token.
    case k1
    /// kl = (r − 1) − log r: unbiased, never negative, lower variance.
    case k3

    /// One token's estimate (ppo_trainer.py:773-774).
    public func estimate(logprob: Float, refLogprob: Float) -> Float {
        let logr = refLogprob - logprob
        switch self {
        case .k1: return -logr
        case .k3: return (Foundation.exp(logr) - 1) - logr
        }
    }
}

/// Where each response of a right-padded batch ends. A response of `n` tokens (through its EOS, if any) fills
/// columns 0..<n; TRL's `sequence_lengths` is n − 1.
///
/// Two masks follow, as in TRL (ppo_trainer.py:763-768):
/// - token mask (`~padding_mask`): t < n, the generated tokens. Log-probabilities, the policy loss and the
///   advantage whitening cover these; log-probabilities elsewhere are set to `PPOMath.invalidLogprob`.
/// - value mask (`~padding_mask_p1`): t ≤ n, one column more. Value at column n is the critic's estimate after the
///   last token (the column that predicts token n reads the EOS), and when n < L the score is added there, not at
///   the last token (`actual_end`, :777-779). Values, the reward whitening and the value loss cover these.
public struct ResponsePadding: Sendable, Equatable {
    /// Tokens per response, each in 0...responseLength.
    public let lengths: [Int]
    /// L, the padded length of every response.
    public let responseLength: Int

    public init(lengths: [Int], responseLength: Int) throws {
        guard responseLength > 0, lengths.allSatisfy({ 0...responseLength ~= $0 }) else {
            throw TensorError.invalidArgument(op: "ResponsePadding", "lengths \(lengths) must lie in 0...\(responseLength), L > 0")
        }
        (self.lengths, self.responseLength) = (lengths, responseLength)
    }

    /// From a [batch · L] mask of 1 (token) and 0 (padding), such as `RolloutBatch.responseMask`; each row must be
    /// ones then zeros.
    public init(responseMask: [Float], responseLength: Int) throws {
        guard responseLength > 0, responseMask.count % responseLength == 0 else {
            throw TensorError.shapeMismatch(op: "ResponsePadding", "\(responseMask.count) mask values for rows of \(responseLength)")
        }
        var lengths: [Int] = []
        for row in stride(from: 0, to: responseMask.count, by: responseLength) {
            let values = responseMask[row..<(row + responseLength)]
            let n = values.prefix(while: { $0 != 0 }).count
            guard values.dropFirst(n).allSatisfy({ $0 == 0 }) else {
                throw TensorError.invalidArgument(op: "ResponsePadding", "row \(row / responseLength) of the response mask is not right-padded")
            }
            lengths.append(n)
        }
        try self.init(lengths: lengths, responseLength: responseLength)
    }

    public var batchSize: Int { lengths.count }
    public var shape: [Int] { [batchSize, responseLength] }

    /// TRL's `sequence_lengths`: the column of each response's last token (−1 for an empty response).
    public var sequenceLengths: [Int] { lengths.map { $0 - 1 } }

    /// `~padding_mask[row, t]`: column t holds a generated token.
    public func isToken(_ row: Int, _ t: Int) -> Bool { t < lengths[row] }
    /// `~padding_mask_p1[row, t]`: column t has a value (tokens and the column just after them).
    public func hasValue(_ row: Int, _ t: Int) -> Bool { t <= lengths[row] }

    /// TRL's `actual_end`: the column that receives the score, n if it exists, else n − 1 (the last column).
    public func scoreColumn(_ row: Int) -> Int {
        lengths[row] < responseLength ? lengths[row] : lengths[row] - 1
    }

    /// [batch, L]: 1 where `isToken`, else 0.
    public var tokenMask: Tensor { mask(isToken) }
    /// [batch, L]: 1 where `hasValue`, else 0.
    public var valueMask: Tensor { mask(hasValue) }

    private func mask(_ keep: (Int, Int) -> Bool) -> Tensor {
        var mask = Tensor.zeros(shape)
        mask.withUnsafeMutableBufferPointer { values in
            for row in 0..<batchSize {
                for t in 0..<responseLength where keep(row, t) { values[row * responseLength + t] = 1 }
            }
        }
        return mask
    }

    func check(_ tensor: Tensor, _ name: String, op: String) throws {
        guard tensor.shape == shape else {
            throw TensorError.shapeMismatch(op: op, "\(name) has shape \(tensor.shape), expected \(shape)")
        }
    }
}

/// Step 4 of TRL's iteration: per-token rewards from the rollout.
public struct PPORewards: Sendable {
    /// The batch's layout the rewards were computed for.
    public let padding: ResponsePadding
    /// The scores after the missing-EOS penalty, [batch].
    public let scores: [Float]
    /// The rollout's log-probabilities with `invalidLogprob` past each response: the "old" log-probabilities.
    public let logprobs: Tensor
    /// The reference model's log-probabilities, filled the same way.
    public let refLogprobs: Tensor
    /// Per-token KL estimate, 0 at padding (both log-probabilities are `invalidLogprob` there).
    public let kl: Tensor
    /// −β · kl.
    public let nonScoreReward: Tensor
    /// `non_score_reward` with each score added at its response's `scoreColumn`.
    public let rewards: Tensor
}

/// Steps 5–6 of TRL's iteration: what the PPO epochs train on.
public struct PPOAdvantages: Sendable {
    /// The rollout's values, 0 past each response's value mask: the "old" values of the value clipping.
    public let values: Tensor
    /// The rewards GAE used: whitened (mean kept) and 0 outside the value mask when `whitenRewards`, else as given.
    public let rewards: Tensor
    /// GAE's advantages before whitening.
    public let rawAdvantages: Tensor
    /// Advantages whitened over the response tokens, 0 at padding: the policy loss's A.
    public let advantages: Tensor
    /// rawAdvantages + values: the value loss's target.
    public let returns: Tensor
}

public enum PPOMath {
    /// TRL's `INVALID_LOGPROB`: the log-probability stored at padded columns, so both the KL there and the ratio's
    /// log difference are exactly 0.
    public static let invalidLogprob: Float = 1

    // MARK: Rewards (ppo_trainer.py:757-779)

    /// Per-token rewards of a rollout:
    ///
    ///     scores[b] −= missing_eos_penalty   where response b has no EOS      (:757-759)
    ///     logprobs, ref_logprobs ← invalidLogprob where t ≥ n_b             (:765-766)
    ///     kl = k1: logprob − ref_logprob;  k3: (r − 1) − log r, r = exp(ref_logprob − logprob)   (:773-774)
    ///     non_score_reward = −β · kl                                          (:775)
    ///     rewards = non_score_reward;  rewards[b, actual_end_b] += scores[b] (:776-779)
    ///
    /// - Parameters:
    ///   - logprobs: [batch, L] log π_old(token) of the sampled tokens (temperature-scaled logits).
    ///   - refLogprobs: [batch, L] the reference model's, with the same temperature.
    ///   - scores: [batch] the reward model's scores of the (truncated) responses.
    ///   - containsEOS: [batch] whether each response contains the EOS token (TRL's `contain_eos_token`).
    ///   - klCoefficient: β, from the KL controller.
    public static func rewards(logprobs: Tensor, refLogprobs: Tensor, scores: [Float], containsEOS: [Bool],
                               padding: ResponsePadding, klCoefficient: Float,
                               hyperparameters: PPOHyperparameters) throws -> PPORewards {
        let op = "PPOMath.rewards"
        try padding.check(logprobs, "logprobs", op: op)
        try padding.check(refLogprobs, "refLogprobs", op: op)
        guard scores.count == padding.batchSize, containsEOS.count == padding.batchSize else {
            throw TensorError.shapeMismatch(op: op, "\(scores.count) scores and \(containsEOS.count) EOS flags for \(padding.batchSize) responses")
        }
        var scores = scores
        if let penalty = hyperparameters.missingEOSPenalty {
            for b in scores.indices where !containsEOS[b] { scores[b] -= penalty }
        }
        let (batch, length) = (padding.batchSize, padding.responseLength)
        var logp = logprobs.scalars, ref = refLogprobs.scalars
        var kl = [Float](repeating: 0, count: batch * length)
        var nonScore = kl
        for b in 0..<batch {
            for t in 0..<length {
                let i = b * length + t
                if !padding.isToken(b, t) { (logp[i], ref[i]) = (invalidLogprob, invalidLogprob) }
                kl[i] = hyperparameters.klEstimator.estimate(logprob: logp[i], refLogprob: ref[i])
                nonScore[i] = -klCoefficient * kl[i]
            }
        }
        var rewards = nonScore
        for b in 0..<batch { rewards[b * length + padding.scoreColumn(b)] += scores[b] }
        let shape = padding.shape
        return PPORewards(padding: padding, scores: scores, logprobs: try Tensor(shape: shape, scalars: logp),
                          refLogprobs: try Tensor(shape: shape, scalars: ref), kl: try Tensor(shape: shape, scalars: kl),
                          nonScoreReward: try Tensor(shape: shape, scalars: nonScore),
                          rewards: try Tensor(shape: shape, scalars: rewards))
    }

    // MARK: Advantages and returns (ppo_trainer.py:769, 781-798)

    /// Generalized advantage estimation over each response, backwards:
    ///
    ///     values ← 0 outside the value mask                                              (:769)
    ///     if whiten_rewards: rewards = masked_whiten(rewards, value mask, shift_mean=False), 0 outside it  (:782-784)
    ///     lastgaelam = 0
    ///     for t = L−1 … 0:  nextvalues = values[:, t+1] (0 at t = L−1)
    ///                       delta = rewards[:, t] + γ · nextvalues − values[:, t]
    ///                       lastgaelam = delta + γ · λ · lastgaelam;  advantages[:, t] = lastgaelam   (:787-795)
    ///     returns = advantages + values                                                   (:796)
    ///     advantages = masked_whiten(advantages, token mask), 0 outside it                (:797-798)
    ///
    /// Plain arithmetic: nothing here is recorded for backward. Throws when the batch has fewer than two response
    /// tokens (nothing to whiten over).
    public static func advantages(rewards: Tensor, values: Tensor, padding: ResponsePadding,
                                  hyperparameters: PPOHyperparameters) throws -> PPOAdvantages {
        let op = "PPOMath.advantages"
        try padding.check(rewards, "rewards", op: op)
        try padding.check(values, "values", op: op)
        let (batch, length) = (padding.batchSize, padding.responseLength)
        let valueMask = (0..<(batch * length)).map { padding.hasValue($0 / length, $0 % length) }
        let tokenMask = (0..<(batch * length)).map { padding.isToken($0 / length, $0 % length) }
        let v = zip(values.scalars, valueMask).map { $1 ? $0 : 0 }
        var r = rewards.scalars
        if hyperparameters.whitenRewards {
            r = zip(try maskedWhiten(r, mask: valueMask, shiftMean: false), valueMask).map { $1 ? $0 : 0 }
        }
        let (gamma, gammaLambda) = (hyperparameters.gamma, hyperparameters.gamma * hyperparameters.lambda)
        var raw = [Float](repeating: 0, count: batch * length)
        for b in 0..<batch {
            var lastgaelam: Float = 0
            for t in stride(from: length - 1, through: 0, by: -1) {
                let i = b * length + t
                let nextValue: Float = t < length - 1 ? v[i + 1] : 0
                let delta = r[i] + gamma * nextValue - v[i]
                lastgaelam = delta + gammaLambda * lastgaelam
                raw[i] = lastgaelam
            }
        }
        let returns = zip(raw, v).map { $0 + $1 }
        let whitened = zip(try maskedWhiten(raw, mask: tokenMask, shiftMean: true), tokenMask).map { $1 ? $0 : 0 }
        let shape = padding.shape
        return PPOAdvantages(values: try Tensor(shape: shape, scalars: v), rewards: try Tensor(shape: shape, scalars: r),
                             rawAdvantages: try Tensor(shape: shape, scalars: raw),
                             advantages: try Tensor(shape: shape, scalars: whitened),
                             returns: try Tensor(shape: shape, scalars: returns))
    }

    // MARK: Masked statistics (ppo_trainer.py:237-271)

    /// TRL's `masked_mean` over everything: Σ values·mask / Σ mask. Differentiable in `values`.
    /// `count`, when given, replaces Σ mask: the count over a whole batch of which `values` are one rank's rows.
    public static func maskedMean(_ values: Tensor, mask: Tensor, count: Float? = nil) throws -> Tensor {
        let count = count ?? mask.scalars.reduce(0, +)
        guard count > 0 else { throw TensorError.invalidArgument(op: "maskedMean", "the mask is empty") }
        return try (values * mask).sum() * (1 / count)
    }

    /// TRL's `masked_whiten`: (x − mean) / sqrt(var + 1e-8), with the mean and the unbiased (Bessel-corrected)
    /// variance taken over the masked entries; the mean is added back when `shiftMean` is false. Entries outside
    /// the mask are transformed too (callers zero them). Needs at least two masked entries: TRL raises for none and
    /// divides by zero for one.
    public static func maskedWhiten(_ values: [Float], mask: [Bool], shiftMean: Bool = true) throws -> [Float] {
        let count = mask.reduce(0) { $0 + ($1 ? 1 : 0) }
        guard values.count == mask.count, count >= 2 else {
            throw TensorError.invalidArgument(op: "maskedWhiten", "needs at least two masked values, got \(count) of \(values.count)")
        }
        var total = 0.0
        for (x, keep) in zip(values, mask) where keep { total += Double(x) }
        let mean = total / Double(count)
        var squares = 0.0
        for (x, keep) in zip(values, mask) where keep { squares += (Double(x) - mean) * (Double(x) - mean) }
        let variance = squares / Double(count) * (Double(count) / Double(count - 1))
        let scale = 1 / (variance + 1e-8).squareRoot()
        return values.map { x in
            let whitened = (Double(x) - mean) * scale
            return Float(shiftMean ? whitened : whitened + mean)
        }
    }
}

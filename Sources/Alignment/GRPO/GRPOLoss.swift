import Data
import Tensor

/// The clipping, KL and aggregation settings of GRPO's loss, TRL's names in the comments.
public struct GRPOLossSettings: Sendable, Equatable {
    public var lossType: GRPOLossType
    /// `epsilon` (low) and `epsilon_high`: the ratio is clipped to [1 − low, 1 + high].
    public var epsilonLow: Float
    public var epsilonHigh: Float
    /// `beta`: the k3 KL penalty's weight per token; 0 leaves the reference out.
    public var beta: Float
    /// `max_completion_length`: dr_grpo's fixed denominator.
    public var maxCompletionLength: Int

    public init(lossType: GRPOLossType, epsilonLow: Float, epsilonHigh: Float, beta: Float, maxCompletionLength: Int) {
        (self.lossType, self.epsilonLow, self.epsilonHigh, self.beta, self.maxCompletionLength) = (lossType, epsilonLow, epsilonHigh, beta, maxCompletionLength)
    }
}

/// One micro-batch's logged values, TRL's names (grpo_trainer.py:3265-3283, rloo_trainer.py:1843-1860).
public struct GRPOStats: Sendable, Equatable {
    public var loss: Float
    /// Mean k3 KL over completion tokens (nil when β = 0, as TRL logs none).
    public var kl: Float?
    public var entropy: Float?
    public var clipLowMean: Float
    /// Over completions with tokens: the smallest share of low-clipped tokens (TRL's `clip_ratio/low_min`).
    public var clipLowMin: Float
    public var clipHighMean: Float
    public var clipHighMax: Float
    public var clipRegionMean: Float

    var metrics: [String: Double] {
        var values = ["loss": loss, "clip_ratio/low_mean": clipLowMean, "clip_ratio/low_min": clipLowMin, "clip_ratio/high_mean": clipHighMean,
                      "clip_ratio/high_max": clipHighMax, "clip_ratio/region_mean": clipRegionMean].mapValues(Double.init)
        if let kl { values["kl"] = Double(kl) }
        if let entropy { values["entropy"] = Double(entropy) }
        return values
    }
}

extension GRPOMath {
    /// Σ values · mask over all tokens / Σ mask (at least 1): TRL's token-weighted means of kl, entropy and clip flags.
    static func maskedMean(_ values: [Float], mask: [Float]) -> Float {
        Float(values.indices.reduce(0.0) { $0 + Double(values[$1] * mask[$1]) } / Double(max(mask.reduce(0, +), 1)))
    }

    /// Each row's Σ_t values · mask of [rows · length] values: a completion's summed log-probabilities or KL.
    static func maskedRowSums(_ values: [Float], mask: [Float], length: Int) -> [Double] {
        stride(from: 0, to: values.count, by: length).map { start in
            (start..<(start + length)).reduce(0.0) { $0 + Double(values[$1] * mask[$1]) }
        }
    }

    /// GRPO's loss of one micro-batch of `B` completions, recorded for backward (grpo_trainer.py:3083-3184):
    ///
    ///     ratio = exp(logprobs − old);  clipped = clamp(ratio, 1 − ε_low, 1 + ε_high)
    ///     per_token = −min(ratio · A, clipped · A) + β · (exp(ref − logprobs) − (ref − logprobs) − 1)
    ///     grpo: mean over completions of each one's token mean;  bnpo: mean over the micro-batch's tokens
    ///     dr_grpo: token sum / (B · max_completion_length);      each of these / `microBatches`
    ///     dapo: token sum / `generationTokens` (already the whole step's count)
    ///
    /// The value is TRL's, the micro-batch's share of the step's loss.
    /// - Parameters:
    ///   - logprobs: [B, T] the policy's log-probabilities of the completion tokens (temperature-scaled), 0 at padding.
    ///   - oldLogprobs: [B, T] those at sampling time (μ > 1); nil: the current ones, detached (ratio 1).
    ///   - refLogprobs: [B, T] the reference's, needed when β ≠ 0.
    ///   - entropies: [B, T] per-token entropies, for the statistic only.
    ///   - advantages: [B] one per completion.
    ///   - mask: [B · T] 1 for completion tokens that count.
    ///   - generationTokens: dapo's denominator: the completion tokens of the whole step (all its micro-batches).
    ///   - microBatches: the micro-batches whose gradients are summed into one optimizer step.
    public static func loss(logprobs: Tensor, oldLogprobs: Tensor?, refLogprobs: Tensor?, entropies: [Float]?, advantages: [Float],
                            mask: [Float], generationTokens: Int, microBatches: Int = 1,
                            settings: GRPOLossSettings) throws -> (loss: Tensor, stats: GRPOStats) {
        let (rows, length) = (logprobs.shape[0], logprobs.shape[1])
        guard advantages.count == rows, mask.count == rows * length else {
            throw TensorError.shapeMismatch(op: "GRPOMath.loss", "\(advantages.count) advantages and \(mask.count) mask values for logprobs \(logprobs.shape)")
        }
        let tokensPerRow = (0..<rows).map { b in mask[(b * length)..<((b + 1) * length)].reduce(0, +) }
        let tokens = tokensPerRow.reduce(0, +)
        let rowWeight: (Int) -> Float = switch settings.lossType {
        case .grpo: { b in 1 / (Float(rows * microBatches) * max(tokensPerRow[b], 1)) }
        case .bnpo: { _ in 1 / (max(tokens, 1) * Float(microBatches)) }
        case .drGRPO: { _ in 1 / Float(rows * settings.maxCompletionLength * microBatches) }
        case .dapo: { _ in 1 / Float(max(generationTokens, 1)) }
        }
        let weights = try Tensor(shape: [rows, length], scalars: (0..<(rows * length)).map { mask[$0] * rowWeight($0 / length) })
        let advantageGrid = try Tensor(shape: [rows, length], scalars: advantages.flatMap { Array(repeating: $0, count: length) })

        let old = oldLogprobs?.detached() ?? logprobs.detached()
        let ratio = try (logprobs - old).exp()
        let clipped = ratio.clamped(min: 1 - settings.epsilonLow, max: 1 + settings.epsilonHigh)
        var perToken = try Tensor.minimum(try ratio * advantageGrid, try clipped * advantageGrid).negated()
        var kl: Tensor?
        if settings.beta != 0 {
            guard let refLogprobs else { throw TensorError.invalidArgument(op: "GRPOMath.loss", "β ≠ 0 needs the reference log-probabilities") }
            let delta = try refLogprobs.detached() - logprobs
            let k3 = try delta.exp() - delta - 1
            perToken = try perToken + k3 * settings.beta
            kl = k3
        }
        let loss = try (perToken * weights).sum()

        let ratios = ratio.scalars
        let low = ratios.indices.map { ratios[$0] < 1 - settings.epsilonLow && advantages[$0 / length] < 0 }
        let high = ratios.indices.map { ratios[$0] > 1 + settings.epsilonHigh && advantages[$0 / length] > 0 }
        let tokenMean = { (values: [Float]) in Self.maskedMean(values, mask: mask) }
        let rowShares = { (flags: [Bool]) -> [Float] in
            (0..<rows).filter { tokensPerRow[$0] > 0 }.map { b in
                Float((0..<length).filter { flags[b * length + $0] && mask[b * length + $0] != 0 }.count) / tokensPerRow[b]
            }
        }
        let asFloat = { (flags: [Bool]) in flags.map { $0 ? Float(1) : 0 } }
        let stats = GRPOStats(
            loss: try loss.item, kl: kl.map { tokenMean($0.scalars) }, entropy: entropies.map(tokenMean),
            clipLowMean: tokenMean(asFloat(low)), clipLowMin: rowShares(low).min() ?? .nan,
            clipHighMean: tokenMean(asFloat(high)), clipHighMax: rowShares(high).max() ?? .nan,
            clipRegionMean: tokenMean(asFloat(zip(low, high).map { $0 || $1 })))
        return (loss, stats)
    }

    /// RLOO's loss of one micro-batch, recorded for backward (rloo_trainer.py:1822-1833): the importance ratio of
    /// each whole completion, exp(Σ_t logprobs − old), clipped as GRPO's, times its advantage, averaged over
    /// completions. `oldSequenceLogprobs` [B] are the sums at sampling time.
    public static func leaveOneOutLoss(logprobs: Tensor, oldSequenceLogprobs: [Float], entropies: [Float]?, advantages: [Float],
                                       mask: [Float], epsilonLow: Float, epsilonHigh: Float) throws -> (loss: Tensor, stats: GRPOStats) {
        let (rows, length) = (logprobs.shape[0], logprobs.shape[1])
        let maskTensor = try Tensor(shape: [rows, length], scalars: mask)
        let sequence = try (logprobs * maskTensor).sum(axis: 1)
        let ratio = try (sequence - Tensor(shape: [rows], scalars: oldSequenceLogprobs)).exp()
        let clipped = ratio.clamped(min: 1 - epsilonLow, max: 1 + epsilonHigh)
        let advantage = try Tensor(shape: [rows], scalars: advantages)
        let loss = try Tensor.minimum(try ratio * advantage, try clipped * advantage).negated().mean()

        let ratios = ratio.scalars
        let low = (0..<rows).map { ratios[$0] < 1 - epsilonLow && advantages[$0] < 0 ? Float(1) : 0 }
        let high = (0..<rows).map { ratios[$0] > 1 + epsilonHigh && advantages[$0] > 0 ? Float(1) : 0 }
        let mean = { (values: [Float]) in values.reduce(0, +) / Float(max(values.count, 1)) }
        let stats = GRPOStats(loss: try loss.item, kl: nil, entropy: entropies.map { maskedMean($0, mask: mask) }, clipLowMean: mean(low), clipLowMin: low.min() ?? .nan,
                              clipHighMean: mean(high), clipHighMax: high.max() ?? .nan, clipRegionMean: mean(zip(low, high).map { max($0, $1) }))
        return (loss, stats)
    }
}

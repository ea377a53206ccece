import Data
import Foundation
import Tensor

// The arithmetic of critic-free online RL as TRL 1.16.0 computes it (trl/trainer/grpo_trainer.py and
// rloo_trainer.py; line numbers below are those files'):
//
//   rewards per function [N, K] (nil = the function did not score it)  →  weighted sum per completion
//   GRPO:  advantage = (r − mean of its group) / (std of its group, or of the batch, + 1e-4)      grpo :2755-2810
//   RLOO:  r −= β · Σ_t (old − ref) log-probs;  advantage = r − mean of the other G − 1          rloo :1654-1703
//   loss:  GRPO per token (clipped ratio, + β · k3 KL, aggregated four ways)                      grpo :3083-3184
//          RLOO per sequence (clipped ratio of summed log-probs, mean over sequences)             rloo :1822-1833
//
// scripts/fixtures/make_grpo_fixture.py runs TRL's own code on fixed inputs; GRPOMathTests matches it within 1e-6.

/// How GRPO turns per-completion rewards into advantages (TRL's `scale_rewards`).
public enum RewardScaling: String, Codable, Sendable, CaseIterable {
    /// Divide by the group's standard deviation (GRPO as published).
    case group
    /// Divide by the whole batch's standard deviation (Dr. GRPO's recommendation keeps the group mean).
    case batch
    /// Only subtract the group mean.
    case none
}

/// How GRPO's per-token losses become one number (TRL's `loss_type`).
public enum GRPOLossType: String, Codable, Sendable, CaseIterable {
    /// Mean over each completion's tokens, then over completions (favours short completions).
    case grpo
    /// Mean over the micro-batch's tokens.
    case bnpo
    /// Sum over tokens divided by completions × max_completion_length (Dr. GRPO: no length bias).
    case drGRPO = "dr_grpo"
    /// Sum over tokens divided by the token count of the whole generation batch (DAPO; TRL's default).
    case dapo
}

/// The per-completion baseline: the group's mean (GRPO) or the mean of the group's other completions (RLOO).
public enum AdvantageEstimator: String, Codable, Sendable, CaseIterable {
    case grpo, rloo
}

public enum GRPOMath {
    /// Each completion's reward: the weighted sum of the functions that scored it; NaN when none did.
    public static func combinedRewards(_ perFunction: [[Float?]], weights: [Float]) -> [Double] {
        perFunction.map { row in
            let scored = zip(row, weights).compactMap { value, weight in value.map { Double($0) * Double(weight) } }
            return scored.isEmpty ? .nan : scored.reduce(0, +)
        }
    }

    /// GRPO's advantages (sum_then_normalize): `rewards` holds `groupSize` consecutive completions per prompt.
    /// Unscorable completions (NaN) are left out of means and deviations and get advantage 0. Also returns, per
    /// completion, whether its scale (the deviation it was divided by, or would be) is zero.
    public static func groupAdvantages(rewards: [Double], groupSize: Int, scaling: RewardScaling) -> (advantages: [Float], stdIsZero: [Bool]) {
        let groups = stride(from: 0, to: rewards.count, by: groupSize).map { Array(rewards[$0..<min(rewards.count, $0 + groupSize)]) }
        let means = groups.flatMap { group in Array(repeating: nanMean(group), count: group.count) }
        let deviations: [Double] = switch scaling {
        case .group, .none: groupSize > 1 ? groups.flatMap { group in Array(repeating: nanStd(group), count: group.count) }
                                          : Array(repeating: 0, count: rewards.count)
        case .batch: rewards.count > 1 ? Array(repeating: nanStd(rewards), count: rewards.count) : Array(repeating: 0, count: rewards.count)
        }
        let advantages = rewards.indices.map { i in
            let centred = rewards[i] - means[i]
            return finiteOrZero(scaling == .none ? centred : centred / (deviations[i] + 1e-4))
        }
        return (advantages, deviations.map(isZero))
    }

    /// RLOO's advantages: rewards (minus β times each completion's summed k1 KL `sequenceKL`, when given) less the
    /// mean of the other scorable completions of the group; optionally normalised over the batch. Also returns, per
    /// group, whether its rewards' deviation is zero.
    public static func leaveOneOutAdvantages(rewards: [Double], sequenceKL: [Double]?, beta: Double, groupSize: Int,
                                             normalize: Bool) -> (advantages: [Float], stdIsZero: [Bool]) {
        var penalised = rewards
        if let sequenceKL, beta != 0 { penalised = zip(rewards, sequenceKL).map { $0 - beta * $1 } }
        var advantages = [Double](repeating: 0, count: penalised.count)
        var stdIsZero: [Bool] = []
        for start in stride(from: 0, to: penalised.count, by: groupSize) {
            let group = Array(penalised[start..<min(penalised.count, start + groupSize)])
            stdIsZero.append(isZero(groupSize > 1 ? nanStd(group) : 0))
            let scorable = Double(group.filter { !$0.isNaN }.count), sum = group.filter { !$0.isNaN }.reduce(0, +)
            for (offset, reward) in group.enumerated() {
                advantages[start + offset] = groupSize > 1 ? reward - (sum - reward) / (scorable - 1) : 0
            }
        }
        if normalize {
            let (mean, deviation) = (nanMean(advantages), nanStd(advantages))
            advantages = advantages.map { ($0 - mean) / (deviation + 1e-4) }
        }
        return (advantages.map(finiteOrZero), stdIsZero)
    }

    /// The reward metrics TRL logs for a generation batch: `reward`, `reward_std`, `frac_reward_zero_std` and each
    /// function's `rewards/<name>/mean` and `/std` over the completions it scored.
    public static func rewardMetrics(perFunction: [[Float?]], names: [String], weights: [Float], stdIsZero: [Bool]) -> [String: Double] {
        let combined = combinedRewards(perFunction, weights: weights)
        var metrics = ["reward": nanMean(combined), "reward_std": nanStd(combined),
                       "frac_reward_zero_std": Double(stdIsZero.filter { $0 }.count) / Double(max(stdIsZero.count, 1))]
        for (k, name) in names.enumerated() {
            let column = perFunction.map { $0[k].map(Double.init) ?? .nan }
            (metrics["rewards/\(name)/mean"], metrics["rewards/\(name)/std"]) = (nanMean(column), nanStd(column))
        }
        return metrics
    }

    // MARK: NaN-aware statistics, as torch.nanmean and TRL's nanstd (Bessel-corrected; NaN below two values)

    static func nanMean(_ values: [Double]) -> Double {
        let kept = values.filter { !$0.isNaN }
        return kept.isEmpty ? .nan : kept.reduce(0, +) / Double(kept.count)
    }

    static func nanStd(_ values: [Double]) -> Double {
        let kept = values.filter { !$0.isNaN }
        guard kept.count > 1 else { return .nan }
        let mean = kept.reduce(0, +) / Double(kept.count)
        return (kept.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(kept.count - 1)).squareRoot()
    }

    /// torch.isclose(x, 0): |x| ≤ 1e-8 (NaN is not close).
    static func isZero(_ value: Double) -> Bool { abs(value) <= 1e-8 }

    static func finiteOrZero(_ value: Double) -> Float { value.isNaN ? 0 : Float(value) }
}

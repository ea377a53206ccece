import Foundation
import Tensor

/// The DPO family's losses on sequence log-probabilities, as TRL 1.16 computes them in `DPOTrainer._compute_loss`
/// (trl/trainer/dpo_trainer.py:1350-1431, 1495-1502, 1581-1601). With ρ = log π(y|x) − log π_ref(y|x) summed over a
/// completion's tokens and Δ = ρ_chosen − ρ_rejected:
///
///     sigmoid  −log σ(β·Δ)                                         (Rafailov et al. 2023; soft labels p:
///              −p·log σ(β·Δ) − (1−p)·log σ(−β·Δ), TRL's label smoothing with ε = 1 − p per pair)
///     hinge    max(0, 1 − β·Δ)                                      (SLiC)
///     ipo      (ρ_c/|y_c| − ρ_r/|y_r| − 1/(2β))²                    (Azar et al. 2023; TRL normalises by length)
///     robust   [−(1−ε)·log σ(β·Δ) + ε·log σ(−β·Δ)] / (1 − 2ε)       (Chowdhury et al. 2024, label smoothing ε)
///
/// and RPO's NLL term, α · the mean −log π over every chosen completion token of the batch.
/// scripts/fixtures/make_dpo_fixture.py runs TRL's code on fixed log-probabilities; DPOTests match it within 1e-5.
public enum DPOLossType: String, Codable, Sendable, CaseIterable {
    case sigmoid, hinge, ipo, robust
}

/// One batch of pairs' log-probabilities: the policy's recorded for backward, the reference's constant.
public struct PreferenceLogProbabilities {
    /// log π(y_chosen | x) per pair, [pairs].
    public var policyChosen: Tensor
    public var policyRejected: Tensor
    public var referenceChosen: [Float]
    public var referenceRejected: [Float]
    /// Completion tokens per pair (what IPO and RPO normalise by).
    public var chosenLengths: [Int]
    public var rejectedLengths: [Int]
    /// P(chosen is better) per pair: 1 for hard labels, the labeler's probability for soft ones (sigmoid loss only).
    public var preferences: [Float]

    public init(policyChosen: Tensor, policyRejected: Tensor, referenceChosen: [Float], referenceRejected: [Float],
                chosenLengths: [Int], rejectedLengths: [Int], preferences: [Float]? = nil) {
        (self.policyChosen, self.policyRejected, self.referenceChosen, self.referenceRejected) = (policyChosen, policyRejected, referenceChosen, referenceRejected)
        (self.chosenLengths, self.rejectedLengths) = (chosenLengths, rejectedLengths)
        self.preferences = preferences ?? Array(repeating: 1, count: referenceChosen.count)
    }
}

public struct DPOLoss: Codable, Sendable, Equatable {
    public var type: DPOLossType
    /// β: how far the policy may move from the reference (the implicit reward's scale).
    public var beta: Float
    /// ε, the robust loss's label smoothing (the share of preference labels assumed flipped).
    public var labelSmoothing: Float
    /// α of RPO's NLL term on the chosen completions; 0 = none.
    public var rpoAlpha: Float

    public init(type: DPOLossType = .sigmoid, beta: Float = 0.1, labelSmoothing: Float = 0, rpoAlpha: Float = 0) {
        (self.type, self.beta, self.labelSmoothing, self.rpoAlpha) = (type, beta, labelSmoothing, rpoAlpha)
    }

    /// Each pair's loss [pairs], recorded for backward (without RPO's term, which belongs to the batch).
    public func losses(_ logps: PreferenceLogProbabilities) throws -> Tensor {
        let n = logps.referenceChosen.count
        let chosen = try logps.policyChosen - Tensor(shape: [n], scalars: logps.referenceChosen)
        let rejected = try logps.policyRejected - Tensor(shape: [n], scalars: logps.referenceRejected)
        switch type {
        case .sigmoid:
            let logits = (try chosen - rejected) * beta
            guard logps.preferences.contains(where: { $0 != 1 }) else { return logits.logSigmoid().negated() }
            // Soft targets p: −[p·log σ(βΔ) + (1−p)·log σ(−βΔ)] = −log σ(βΔ) + (1−p)·βΔ (TRL's label smoothing, per pair).
            return try logits.logSigmoid().negated() + logits * Tensor(shape: [n], scalars: logps.preferences.map { 1 - $0 })
        case .hinge:
            return (1 - ((try chosen - rejected) * beta)).clamped(min: 0)
        case .ipo:
            let perToken = { (ratio: Tensor, lengths: [Int]) in try ratio * Tensor(shape: [n], scalars: lengths.map { 1 / Float(max($0, 1)) }) }
            let gap = try perToken(chosen, logps.chosenLengths) - perToken(rejected, logps.rejectedLengths) - 1 / (2 * beta)
            return try gap * gap
        case .robust:
            let logits = ((try chosen - rejected) * beta)
            let eps = labelSmoothing
            return (try logits.logSigmoid() * -(1 - eps) + logits.negated().logSigmoid() * eps) * (1 / (1 - 2 * eps))
        }
    }

    /// The batch's loss, recorded for backward: the mean of `losses` plus α × RPO's NLL.
    public func loss(_ logps: PreferenceLogProbabilities) throws -> Tensor {
        let mean = try losses(logps).mean()
        guard rpoAlpha != 0 else { return mean }
        return try mean + nll(logps) * rpoAlpha
    }

    /// RPO's term: the mean −log π over every chosen completion token of the batch.
    public func nll(_ logps: PreferenceLogProbabilities) -> Tensor {
        logps.policyChosen.sum() * (-1 / Float(max(logps.chosenLengths.reduce(0, +), 1)))
    }

    /// The metrics TRL logs for a batch: `rewards/chosen`, `rewards/rejected` (β·ρ), `rewards/accuracies` (share of
    /// pairs whose chosen reward is strictly higher), `rewards/margins`, `logps/chosen`, `logps/rejected`, and
    /// `nll_loss` with RPO.
    public func metrics(_ logps: PreferenceLogProbabilities) -> [String: Double] {
        let (policyChosen, policyRejected) = (logps.policyChosen.scalars, logps.policyRejected.scalars)
        let chosen = zip(policyChosen, logps.referenceChosen).map { Double(beta) * Double($0 - $1) }
        let rejected = zip(policyRejected, logps.referenceRejected).map { Double(beta) * Double($0 - $1) }
        let mean = { (values: [Double]) in values.reduce(0, +) / Double(max(values.count, 1)) }
        var metrics = [
            "rewards/chosen": mean(chosen), "rewards/rejected": mean(rejected),
            "rewards/accuracies": mean(zip(chosen, rejected).map { $0 > $1 ? 1 : 0 }),
            "rewards/margins": mean(zip(chosen, rejected).map { $0 - $1 }),
            "logps/chosen": mean(policyChosen.map(Double.init)), "logps/rejected": mean(policyRejected.map(Double.init)),
        ]
        if rpoAlpha != 0 { metrics["nll_loss"] = Double((try? nll(logps).item) ?? .nan) }
        return metrics
    }
}

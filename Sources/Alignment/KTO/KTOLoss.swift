import Foundation
import Tensor

/// Kahneman–Tversky optimisation (Ethayarajh et al. 2024) on unpaired feedback, as TRL 1.16 computes it in
/// `KTOTrainer._compute_loss` (trl/trainer/kto_trainer.py:1442-1548). With ρ = log π(y|x) − log π_ref(y|x) and the
/// reference point z = max(0, mean over the batch's mismatched pairs (x_i, y_j) of ρ), detached:
///
///     desirable     λ_D · (1 − σ(β·(ρ − z)))
///     undesirable   λ_U · (1 − σ(β·(z − ρ)))
///     loss          mean over every example of the batch
///
/// scripts/fixtures/make_kto_fixture.py runs TRL's code on fixed log-probabilities; KTOTests match it within 1e-5.
public struct KTOLoss: Codable, Sendable, Equatable {
    public var beta: Float
    /// λ_D, the weight of desirable (thumbs-up) examples.
    public var desirableWeight: Float
    /// λ_U, the weight of undesirable (thumbs-down) examples.
    public var undesirableWeight: Float

    public init(beta: Float = 0.1, desirableWeight: Float = 1, undesirableWeight: Float = 1) {
        (self.beta, self.desirableWeight, self.undesirableWeight) = (beta, desirableWeight, undesirableWeight)
    }

    /// One batch's log-probabilities.
    public struct Batch {
        /// log π(y_i | x_i) of each example, recorded for backward, [n].
        public var policy: Tensor
        public var reference: [Float]
        /// Whether each example is desirable.
        public var labels: [Bool]
        /// log π and log π_ref of the mismatched pairs (x_i, y_{i−1}), without gradient.
        public var policyMismatched: [Float]
        public var referenceMismatched: [Float]

        public init(policy: Tensor, reference: [Float], labels: [Bool], policyMismatched: [Float], referenceMismatched: [Float]) {
            (self.policy, self.reference, self.labels) = (policy, reference, labels)
            (self.policyMismatched, self.referenceMismatched) = (policyMismatched, referenceMismatched)
        }

        /// The reference point z: the mismatched pairs' mean log-ratio, at least 0.
        public var referencePoint: Float {
            let ratios = zip(policyMismatched, referenceMismatched).map { Double($0 - $1) }
            return Float(max(0, ratios.reduce(0, +) / Double(max(ratios.count, 1))))
        }
    }

    /// Each example's weighted loss [n], recorded for backward.
    public func losses(_ batch: Batch) throws -> Tensor {
        let n = batch.labels.count
        let ratio = try batch.policy - Tensor(shape: [n], scalars: batch.reference)
        // Desirable: β(ρ − z); undesirable: β(z − ρ) = −β(ρ − z).
        let sign = batch.labels.map { $0 ? Float(1) : -1 }
        let shifted = try (ratio - batch.referencePoint) * Tensor(shape: [n], scalars: sign.map { $0 * beta })
        let weights = batch.labels.map { $0 ? desirableWeight : undesirableWeight }
        return try (1 - shifted.sigmoid()) * Tensor(shape: [n], scalars: weights)
    }

    public func loss(_ batch: Batch) throws -> Tensor { try losses(batch).mean() }

    /// TRL's logged metrics: `kl` (the reference point), `rewards/chosen` and `logps/chosen` over the desirable
    /// examples, `rewards/rejected` and `logps/rejected` over the undesirable ones, and `rewards/margins` when the
    /// batch has both.
    public func metrics(_ batch: Batch) -> [String: Double] {
        let policy = batch.policy.scalars
        let rewards = zip(policy, batch.reference).map { Double(beta) * Double($0 - $1) }
        var metrics = ["kl": Double(batch.referencePoint)]
        func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(values.count) }
        for (desirable, side) in [(true, "chosen"), (false, "rejected")] {
            let rows = batch.labels.indices.filter { batch.labels[$0] == desirable }
            guard !rows.isEmpty else { continue }
            metrics["rewards/\(side)"] = mean(rows.map { rewards[$0] })
            metrics["logps/\(side)"] = mean(rows.map { Double(policy[$0]) })
        }
        if let chosen = metrics["rewards/chosen"], let rejected = metrics["rewards/rejected"] { metrics["rewards/margins"] = chosen - rejected }
        return metrics
    }
}

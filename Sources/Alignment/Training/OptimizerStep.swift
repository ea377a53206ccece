import Data
import Tensor

/// The one way every trainer updates weights: zero the gradients, backpropagate each micro-batch's loss (scaled
/// so they sum to a mean), hand the summed gradients to `synchronizeGradients` (where a data-parallel run sums them
/// over its ranks), clip their global norm, and step at the scheduled learning rate.
public final class OptimizerStep {
    public let optimizer: any Optimizer
    public let peakLearningRate: Float
    public let schedule: LRSchedule
    /// Global gradient-norm clip; 0 turns clipping off.
    public let maxGradNorm: Float
    /// Sees the gradients after backward and before clipping.
    public var synchronizeGradients: ([Parameter]) throws -> Void = { _ in }

    public init(optimizer: any Optimizer, peakLearningRate: Float, schedule: LRSchedule = .constant(), maxGradNorm: Float) {
        (self.optimizer, self.peakLearningRate, self.schedule, self.maxGradNorm) = (optimizer, peakLearningRate, schedule, maxGradNorm)
    }

    /// One update at optimizer step `step` (0-based) from `microBatches` losses; `loss(i)` builds the i-th one.
    /// Returns the gradient norm before clipping. A loss that is not finite stops training before the weights
    /// are touched.
    @discardableResult
    public func update(step: Int, microBatches: Int = 1, loss: (Int) throws -> Tensor) throws -> Float {
        optimizer.learningRate = peakLearningRate * schedule.multiplier(at: step)
        optimizer.zeroGrad()
        for micro in 0..<microBatches {
            let value = try loss(micro)
            let scalar = try value.item
            guard scalar.isFinite else {
                throw JobError("step \(step + 1): the loss is \(scalar) (is the learning rate too high?); the weights were not updated")
            }
            try (value * (1 / Float(microBatches))).backward()
        }
        try synchronizeGradients(optimizer.parameters)
        let norm = clipGradientNorm(optimizer.parameters, maxNorm: maxGradNorm > 0 ? maxGradNorm : .infinity)
        guard norm.isFinite else {
            throw JobError("step \(step + 1): the gradient norm is \(norm); the weights were not updated")
        }
        try optimizer.step()
        return norm
    }
}

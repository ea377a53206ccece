import Data
import Distributed
import Tensor

/// The one way every trainer updates weights: zero the gradients, backpropagate each micro-batch's loss (scaled
/// so they sum to a mean), in a data-parallel job sum the gradients over the ranks, clip their global norm, and step
/// at the scheduled learning rate.
public final class OptimizerStep {
    public let optimizer: any Optimizer
    public let peakLearningRate: Float
    public let schedule: LRSchedule
    /// Global gradient-norm clip; 0 turns clipping off.
    public let maxGradNorm: Float
    /// Sums the ranks' gradients between backward and clipping; nil in one process.
    private let reducer: GradientReducer?

    /// Each rank of `communicator` weights its loss by its share of the batch, so the summed gradients are the
    /// whole batch's.
    public init(optimizer: any Optimizer, peakLearningRate: Float, schedule: LRSchedule = .constant(), maxGradNorm: Float,
                communicator: any Communicator = SingleProcess()) {
        (self.optimizer, self.peakLearningRate, self.schedule, self.maxGradNorm) = (optimizer, peakLearningRate, schedule, maxGradNorm)
        reducer = communicator.size > 1 ? GradientReducer(communicator: communicator) : nil
    }

    /// Seconds the last update spent summing gradients over the ranks; nil in one process.
    public var allReduceSeconds: Double? { reducer?.lastSeconds }

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
        try reducer?.sum(optimizer.parameters)
        let norm = clipGradientNorm(optimizer.parameters, maxNorm: maxGradNorm > 0 ? maxGradNorm : .infinity)
        guard norm.isFinite else {
            throw JobError("step \(step + 1): the gradient norm is \(norm); the weights were not updated")
        }
        try optimizer.step()
        return norm
    }
}

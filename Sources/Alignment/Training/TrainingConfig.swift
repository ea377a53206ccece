import Data
import Tensor

/// The optimisation settings of every run trained by gradient descent (pretrain, SFT, reward, DPO, KTO). Each
/// run's configuration holds one with its algorithm's defaults (e.g. the learning rate); the keys are the flags'
/// names (`lr` is `--lr`).
public struct TrainingConfig: Codable, Sendable, Equatable {
    public enum OptimizerKind: String, Codable, Sendable, CaseIterable { case adamw, sgd }
    public enum ScheduleKind: String, Codable, Sendable, CaseIterable {
        case constant, cosine, linear

        /// The schedule over `totalSteps` optimizer steps, after `warmupSteps` of linear warm-up.
        public func schedule(warmupSteps: Int, totalSteps: Int) -> LRSchedule {
            switch self {
            case .constant: .constant(warmupSteps: warmupSteps)
            case .cosine: .cosine(warmupSteps: warmupSteps, totalSteps: totalSteps)
            case .linear: .linear(warmupSteps: warmupSteps, totalSteps: totalSteps)
            }
        }
    }

    /// Optimizer steps to take; nil: `epochs` passes over the data.
    public var steps: Int? = nil
    public var epochs: Double = 1
    /// Examples per micro-batch.
    public var batchSize = 8
    /// Micro-batches whose gradients are summed (each scaled by 1/gradAccum) before one optimizer step.
    public var gradAccum = 1
    /// The peak learning rate.
    public var learningRate: Float
    public var optimizer = OptimizerKind.adamw
    /// Decoupled for AdamW; biases and norm gains are exempt.
    public var weightDecay: Float = 0
    /// SGD's momentum.
    public var momentum: Float = 0
    /// The learning-rate schedule after warm-up.
    public var schedule = ScheduleKind.linear
    /// Steps of linear warm-up from 0.
    public var warmupSteps = 0
    /// Global gradient-norm clip; 0 turns clipping off.
    public var maxGradNorm: Float = 1
    /// Seeds shuffling, the held-out split, initialisation and dropout.
    public var seed: UInt64 = 42
    /// Visit the data in a new order each epoch (false: file order).
    public var shuffle = true
    /// Save a resumable checkpoint every this many steps (0 = only the final model).
    public var saveEvery = 0
    /// Evaluate on held-out data every this many steps (0 = only at the end).
    public var evalEvery = 0

    enum CodingKeys: String, CodingKey {
        case steps, epochs, batchSize, gradAccum, learningRate = "lr", optimizer, weightDecay, momentum, schedule = "lrSchedule",
             warmupSteps, maxGradNorm, seed, shuffle, saveEvery, evalEvery
    }

    public init(learningRate: Float) { self.learningRate = learningRate }

    /// Keys that do not change what a resumed run computes.
    static let resumeInsensitiveKeys: Set<String> = ["save_every", "eval_every"]

    public func validate() throws {
        if let steps { try Check.positive(steps, "steps") }
        try Check.positive(epochs, "epochs")
        try Check.positive(batchSize, "batch_size")
        try Check.positive(gradAccum, "grad_accum")
        if optimizer == .adamw { try Check.learningRate(learningRate) } else { try Check.positive(learningRate, "lr") }
        for (value, key) in [(weightDecay, "weight_decay"), (momentum, "momentum"), (maxGradNorm, "max_grad_norm")] {
            try Check.nonNegative(value, key)
        }
        for (value, key) in [(warmupSteps, "warmup_steps"), (saveEvery, "save_every"), (evalEvery, "eval_every")] {
            try Check.nonNegative(value, key)
        }
    }

    /// Optimizer steps for `exampleCount` training examples.
    public func totalSteps(exampleCount: Int) -> Int {
        if let steps { return steps }
        let perEpoch = Double((exampleCount + batchSize - 1) / batchSize) / Double(gradAccum)
        return max(1, Int((perEpoch * epochs).rounded(.up)))
    }

    public func makeOptimizer(_ parameters: [Parameter]) -> any Optimizer {
        switch optimizer {
        case .adamw: return AdamW(parameters: parameters, learningRate: learningRate, weightDecay: weightDecay)
        case .sgd: return SGD(parameters: parameters, learningRate: learningRate, momentum: momentum, weightDecay: weightDecay)
        }
    }

    public func learningRateSchedule(totalSteps: Int) -> LRSchedule {
        schedule.schedule(warmupSteps: warmupSteps, totalSteps: totalSteps)
    }
}

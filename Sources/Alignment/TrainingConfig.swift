import Tensor

/// Hyperparameters shared by every trainer; defaults follow TRL/transformers where they have one.
public struct TrainingConfig: Codable, Sendable, Equatable {
    public enum OptimizerKind: String, Codable, Sendable, CaseIterable { case adamw, sgd }
    public enum ScheduleKind: String, Codable, Sendable, CaseIterable { case constant, cosine, linear }

    /// Optimizer steps to take; when nil, `epochs` passes over the data.
    public var steps: Int?
    public var epochs: Double = 1
    /// Examples per micro-batch.
    public var batchSize = 8
    /// Micro-batches whose gradients are summed (each scaled by 1/gradAccum) before one optimizer step.
    public var gradAccum = 1
    public var learningRate: Float = 2e-5
    public var optimizer = OptimizerKind.adamw
    public var weightDecay: Float = 0
    public var momentum: Float = 0
    public var schedule = ScheduleKind.linear
    public var warmupSteps = 0
    /// Global gradient-norm clip; 0 turns clipping off.
    public var maxGradNorm: Float = 1
    public var seed: UInt64 = 42
    public var shuffle = true
    /// Save a resumable checkpoint every this many steps (0 = only at the end).
    public var saveEvery = 0
    /// Evaluate every this many steps (0 = only at the end).
    public var evalEvery = 0

    public init() {}

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
        switch schedule {
        case .constant: return .constant(warmupSteps: warmupSteps)
        case .cosine: return .cosine(warmupSteps: warmupSteps, totalSteps: totalSteps)
        case .linear: return .linear(warmupSteps: warmupSteps, totalSteps: totalSteps)
        }
    }
}

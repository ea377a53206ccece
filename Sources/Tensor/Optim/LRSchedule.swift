import Foundation

/// Learning-rate multipliers by step, matching transformers' `get_*_schedule_with_warmup`.
public enum LRSchedule: Sendable, Equatable {
    case constant(warmupSteps: Int = 0)
    case cosine(warmupSteps: Int, totalSteps: Int)
    case linear(warmupSteps: Int, totalSteps: Int)

    /// The multiplier of the base learning rate at `step` (0-based: the first update uses step 0).
    public func multiplier(at step: Int) -> Float {
        let warmup: Int
        switch self {
        case .constant(let w), .cosine(let w, _), .linear(let w, _): warmup = w
        }
        if step < warmup { return Float(step) / Float(max(1, warmup)) }
        switch self {
        case .constant:
            return 1
        case .cosine(_, let total):
            let progress = Float(step - warmup) / Float(max(1, total - warmup))
            return max(0, 0.5 * (1 + Foundation.cos(Float.pi * progress)))
        case .linear(_, let total):
            return max(0, Float(total - step) / Float(max(1, total - warmup)))
        }
    }
}

/// The KL penalty's coefficient β over training: fixed, or adaptive (Ziegler et al. 2019, "Fine-Tuning Language
/// Models from Human Preferences", §2.2; TRL v0's `AdaptiveKLController`, trl/trainer/utils.py, and OpenAI's
/// lm-human-preferences). Codable, so a checkpoint saves it and `--resume` continues with the same β.
///
/// Adaptive update after each iteration, with `current` the measured KL (TRL: `objective/kl`, the per-response sum
/// averaged over the batch) and `steps` the episodes (responses) that iteration used:
///
///     proportional_error = clip(current / target − 1, −0.2, 0.2)
///     mult = 1 + proportional_error · steps / horizon
///     value *= mult
public struct KLController: Codable, Sendable, Equatable {
    public enum Mode: String, Codable, Sendable { case fixed, adaptive }

    public let mode: Mode
    /// β, the coefficient of the next iteration's per-token reward −β·KL.
    public private(set) var value: Double
    /// The KL the adaptive controller steers towards (nil when fixed).
    public let target: Double?
    /// Episodes over which a full proportional error changes β by 20% (nil when fixed).
    public let horizon: Double?

    private init(mode: Mode, value: Double, target: Double?, horizon: Double?) {
        (self.mode, self.value, self.target, self.horizon) = (mode, value, target, horizon)
    }

    /// β stays `coefficient` (TRL 1.12's PPO: `kl_coef`).
    public static func fixed(_ coefficient: Double) -> KLController {
        KLController(mode: .fixed, value: coefficient, target: nil, horizon: nil)
    }

    public static func adaptive(initial: Double, target: Double, horizon: Double) throws -> KLController {
        guard target > 0, horizon > 0, initial >= 0 else {
            throw KLControllerError("adaptive KL controller needs target > 0, horizon > 0 and β ≥ 0 (got \(target), \(horizon), \(initial))")
        }
        return KLController(mode: .adaptive, value: initial, target: target, horizon: horizon)
    }

    /// Moves β after an iteration that measured `currentKL` over `steps` episodes; a fixed controller ignores it.
    public mutating func update(currentKL: Double, steps: Int) {
        guard mode == .adaptive, let target, let horizon else { return }
        let proportionalError = min(max(currentKL / target - 1, -0.2), 0.2)
        let mult = 1 + proportionalError * Double(steps) / horizon
        value *= mult
    }
}

public struct KLControllerError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}

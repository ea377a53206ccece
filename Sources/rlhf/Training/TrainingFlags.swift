import Alignment
import ArgumentParser
import Foundation

extension TrainingConfig.OptimizerKind: ExpressibleByArgument {}
extension TrainingConfig.ScheduleKind: ExpressibleByArgument {}

/// The optimisation flags every trainer takes.
struct TrainingFlags: ParsableArguments {
    @Option(help: "Optimizer steps to take (overrides --epochs).")
    var steps: Int?

    @Option(help: "Passes over the training data.")
    var epochs: Double = 1

    @Option(help: "Examples per micro-batch.")
    var batchSize = 8

    @Option(help: "Micro-batches accumulated into one optimizer step.")
    var gradAccum = 1

    @Option(help: "Peak learning rate (default: 2e-5 for sft, 2e-4 for sft with LoRA, 1e-3 for pretrain).")
    var lr: Float?

    @Option(help: "adamw or sgd.")
    var optimizer: TrainingConfig.OptimizerKind = .adamw

    @Option(help: "Weight decay (decoupled for AdamW; biases and norm gains are exempt).")
    var weightDecay: Float = 0

    @Option(help: "Learning-rate schedule after warm-up: constant, cosine or linear (decay to 0).")
    var lrSchedule: TrainingConfig.ScheduleKind = .linear

    @Option(help: "Steps of linear warm-up from 0.")
    var warmupSteps = 0

    @Option(help: "Clip the global gradient norm to this (0 = off).")
    var maxGradNorm: Float = 1

    @Option(help: "Seed for shuffling, the eval split and initialisation.")
    var seed: UInt64 = 42

    @Flag(help: "Visit the data in file order instead of shuffling each epoch.")
    var noShuffle = false

    @Option(help: "Save a resumable checkpoint every N steps (0 = only the final model).")
    var saveEvery = 0

    @Option(help: "Evaluate every N steps (0 = only at the end).")
    var evalEvery = 0

    @Flag(help: "Continue from the newest checkpoint in --out.")
    var resume = false

    func validate() throws {
        guard steps.map({ $0 > 0 }) ?? true, epochs > 0, batchSize > 0, gradAccum > 0 else {
            throw ValidationError("--steps, --epochs, --batch-size and --grad-accum must be positive")
        }
        guard lr.map({ $0 > 0 }) ?? true, weightDecay >= 0, warmupSteps >= 0, maxGradNorm >= 0, saveEvery >= 0, evalEvery >= 0 else {
            throw ValidationError("--lr must be positive; --weight-decay, --warmup-steps, --max-grad-norm, --save-every and --eval-every non-negative")
        }
    }

    func config(defaultLearningRate: Float) -> TrainingConfig {
        var config = TrainingConfig()
        config.steps = steps
        config.epochs = epochs
        config.batchSize = batchSize
        config.gradAccum = gradAccum
        config.learningRate = lr ?? defaultLearningRate
        config.optimizer = optimizer
        config.weightDecay = weightDecay
        config.schedule = lrSchedule
        config.warmupSteps = warmupSteps
        config.maxGradNorm = maxGradNorm
        config.seed = seed
        config.shuffle = !noShuffle
        config.saveEvery = saveEvery
        config.evalEvery = evalEvery
        return config
    }

    /// Refuses to start a fresh run over an earlier one, so nothing is overwritten by accident.
    func checkOutput(_ out: URL) throws { try refuseToOverwriteRun(at: out, resume: resume) }
}

/// A fresh run never writes over an earlier one (checkpoints or metrics in `out`) unless it resumes it.
func refuseToOverwriteRun(at out: URL, resume: Bool) throws {
    let existing = (try? FileManager.default.contentsOfDirectory(atPath: out.path)) ?? []
    if !resume, existing.contains(where: { $0.hasPrefix("checkpoint-") || $0 == "metrics.jsonl" }) {
        throw ValidationError("\(out.path) already holds a training run: pass --resume to continue it, or choose another --out")
    }
}

/// Renders training events: a progress line on a terminal, a line every tenth of the run otherwise.
struct TrainingReporter {
    let progress = ProgressLine(enabled: true)
    let started = Date()

    func handle(_ event: TrainingEvent) -> Bool {
        switch event {
        case .started(let step, let total):
            if step > 0 { log("resuming at step \(step) of \(total)") }
        case .stepEnded(let step, let total, let metrics):
            let elapsed = Date().timeIntervalSince(started)
            let (name, value) = metrics["score"].map { ("score", $0) } ?? ("loss", metrics["loss"] ?? 0)
            let line = String(format: "step %d/%d %@ %@ %.4f lr %.2e", step, total, bar(step, total), name, value,
                              metrics["learning_rate"] ?? 0)
                + (metrics["tokens_per_second"].map { String(format: " %.0f tok/s", $0) } ?? "") + " elapsed \(Int(elapsed))s"
            if progress.enabled { progress.say(line) } else if step == total || step % max(1, total / 10) == 0 { log(line) }
        case .evaluated(let step, let metrics):
            progress.clear()
            log("step \(step): " + metrics.sorted { $0.key < $1.key }.map { String(format: "%@ %.4f", $0.key, $0.value) }.joined(separator: ", "))
        case .checkpointSaved(_, let directory):
            progress.clear()
            log("saved \(directory.path)")
        }
        return true
    }

    private func bar(_ step: Int, _ total: Int) -> String {
        let filled = total > 0 ? step * 20 / total : 20
        return "[" + String(repeating: "=", count: filled) + String(repeating: " ", count: 20 - filled) + "]"
    }

    func log(_ message: String) {
        if progress.enabled { progress.clear() }
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }
}

import Data
import Distributed
import Foundation
import Tensor

/// A trainer the shared loop can drive one step at a time: gradient descent on a `TrainingTask` (SFT, reward
/// models, DPO, KTO) or a PPO iteration.
public protocol SteppedTraining: AnyObject {
    /// The algorithm, e.g. "dpo" (recorded in checkpoints).
    var name: String { get }
    /// Takes step `index` (0-based) and returns its metrics.
    func step(_ index: Int) throws -> [String: Double]
    /// Held-out metrics (e.g. `eval_loss`); empty when there is no held-out data.
    func evaluate() throws -> [String: Double]
    /// Writes what resuming needs besides the loop's own state: weights, optimizer moments, the trainer's state.
    func saveCheckpoint(to directory: URL) throws
    func restoreCheckpoint(from directory: URL) throws
    /// A reason to stop after a step with these metrics (e.g. PPO's target reward), or nil to go on.
    func stopReason(after metrics: [String: Double]) -> String?
    /// Whether a fresh run evaluates before its first step too (logged at step 0: the starting model's score).
    var evaluatesBeforeTraining: Bool { get }
    /// Whether it trains data-parallel: each rank of the run's communicator on its share of every step.
    var splitsAcrossRanks: Bool { get }
}

extension SteppedTraining {
    public var splitsAcrossRanks: Bool { false }
    public func evaluate() throws -> [String: Double] { [:] }
    public func stopReason(after metrics: [String: Double]) -> String? { nil }
    public var evaluatesBeforeTraining: Bool { false }
}

/// The loop every run shares: resume from the newest checkpoint (refusing one whose configuration would change
/// the result), steps, metrics, periodic evaluation, atomic checkpoints, early stops.
public struct TrainingLoop {
    public let training: any SteppedTraining
    public let totalSteps: Int
    public let output: URL
    /// Checkpoint every this many steps (0 = none before the end).
    public let saveEvery: Int
    /// Evaluate every this many steps (0 = only at the end).
    public let evalEvery: Int
    public let metrics: MetricsSink
    /// In a data-parallel job only rank 0 writes checkpoints.
    public let communicator: any Communicator

    public init(training: any SteppedTraining, totalSteps: Int, output: URL, saveEvery: Int, evalEvery: Int, metrics: MetricsSink,
                communicator: any Communicator = SingleProcess()) {
        (self.training, self.totalSteps, self.output, self.saveEvery, self.evalEvery) = (training, totalSteps, output, saveEvery, evalEvery)
        (self.metrics, self.communicator) = (metrics, communicator)
    }

    /// Where a run of `config` into `output` starts, decided before anything is loaded: the checkpoint to resume from,
    /// or nil for the first step (`OutputDirectory` has already refused a directory a fresh run may not write to).
    /// A resume refuses a checkpoint made with settings that change the result, naming them.
    public static func start<Config: RunConfiguration>(_ config: Config, output: URL, control: RunControl) throws -> URL? {
        let store = CheckpointStore(output: output)
        guard control.resume, let checkpoint = store.latest() else { return nil }
        for broken in store.unreadable() {
            control.log("\(broken.path): its \(TrainerState.fileName) does not read; resuming from \(checkpoint.lastPathComponent) instead")
        }
        guard let stored = try Config.stored(in: checkpoint) else {
            throw JobError("\(checkpoint.path) holds no \(runConfigFile): it was not written by this kind of run")
        }
        let changes = try config.changes(from: stored)
        guard changes.isEmpty || control.allowConfigChange else {
            throw JobError("resume refused: the run in \(output.path) was made with other settings (" + changes.joined(separator: ", ")
                           + "); allow the change (--allow-config-change) to resume anyway")
        }
        return checkpoint
    }

    /// Runs to `totalSteps` (or an early stop) for a run of `config`, from `checkpoint` (as `start` chose it) or from
    /// the first step. Returns the steps taken in all and why the run stopped early, if it did.
    public func run<Config: RunConfiguration>(_ config: Config, from checkpoint: URL?, control: RunControl) throws -> (steps: Int, stoppedEarly: String?) {
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        let store = CheckpointStore(output: output)
        if communicator.isLeader { store.removeIncomplete() }
        var step = 0
        if let checkpoint {
            try training.restoreCheckpoint(from: checkpoint)
            step = try TrainerState.read(from: checkpoint).step
            try metrics.open(resumingAfter: step)
            control.log("resuming at step \(step) of \(totalSteps)")
        } else {
            try metrics.open(resumingAfter: nil)
        }
        defer { try? metrics.close() }
        /// Evaluates and logs at `step`; false when the caller stops the run.
        func evaluate(at step: Int) throws -> Bool {
            let evaluation = try withNoGrad { try training.evaluate() }
            guard !evaluation.isEmpty else { return true }
            try metrics.log(evaluation, step: step)
            return control.onEvent(.evaluated(step: step, metrics: evaluation))
        }
        guard control.onEvent(.started(step: step, totalSteps: totalSteps)) else { return (step, "stopped by the caller") }
        if checkpoint == nil, training.evaluatesBeforeTraining {
            guard try evaluate(at: 0) else { return (step, "stopped by the caller") }
        }

        while step < totalSteps {
            let logged = try training.step(step)
            step += 1
            try metrics.log(logged, step: step)
            guard control.onEvent(.stepEnded(step: step, totalSteps: totalSteps, metrics: logged)) else { return (step, "stopped by the caller") }
            let stop = training.stopReason(after: logged)
            if step == totalSteps || stop != nil || (evalEvery > 0 && step % evalEvery == 0) {
                guard try evaluate(at: step) else { return (step, "stopped by the caller") }
            }
            if let stop { return (step, stop) }
            if saveEvery > 0, step % saveEvery == 0, step < totalSteps, communicator.isLeader {
                let directory = try store.saveAtomically(step: step) { temporary in
                    try training.saveCheckpoint(to: temporary)
                    try config.write(to: temporary)
                    try TrainerState(step: step, totalSteps: totalSteps, trainer: training.name).write(to: temporary)
                }
                guard control.onEvent(.checkpointSaved(step: step, directory: directory)) else { return (step, "stopped by the caller") }
            }
        }
        return (step, nil)
    }
}

/// Gradient descent on a `TrainingTask`: each step sums `gradAccum` micro-batches' gradients and takes one
/// `OptimizerStep` at the scheduled learning rate.
public final class GradientDescent: SteppedTraining {
    public let task: any TrainingTask
    public let config: TrainingConfig
    public let update: OptimizerStep
    private let named: [(name: String, parameter: Parameter)]
    /// The ranks of a data-parallel job; each takes its shard of every micro-batch.
    private let communicator: any Communicator

    public init(task: any TrainingTask, config: TrainingConfig, totalSteps: Int, communicator: any Communicator = SingleProcess()) {
        (self.task, self.config, named, self.communicator) = (task, config, task.trainableParameters, communicator)
        update = OptimizerStep(optimizer: config.makeOptimizer(named.map(\.parameter)), peakLearningRate: config.learningRate,
                               schedule: config.learningRateSchedule(totalSteps: totalSteps), maxGradNorm: config.maxGradNorm,
                               communicator: communicator)
    }

    public var name: String { task.name }

    public var splitsAcrossRanks: Bool { task.splitsAcrossRanks }

    /// Each rank weights its loss and metrics by its share of the micro-batch, so their sums over the ranks are what
    /// one process computes on the whole batch.
    public func step(_ index: Int) throws -> [String: Double] {
        let started = DispatchTime.now().uptimeNanoseconds
        let shard = communicator.shard
        var loss = 0.0, tokens = 0, taskMetrics: [String: Double] = [:]
        let gradNorm = try update.update(step: index, microBatches: config.gradAccum) { micro in
            let result = try task.loss(microBatch: index * config.gradAccum + micro, shard: shard)
            let weight = result.share / Double(config.gradAccum)
            loss += Double(try result.loss.item) * weight
            tokens += result.tokens
            taskMetrics.merge(result.metrics.mapValues { $0 * weight }, uniquingKeysWith: +)
            return result.share == 1 ? result.loss : try result.loss * Float(result.share)
        }
        if communicator.size > 1 {
            let keys = taskMetrics.keys.sorted()
            var summed = [loss, Double(tokens)] + keys.map { taskMetrics[$0]! }
            try communicator.sum(&summed)
            (loss, tokens) = (summed[0], Int(summed[1]))
            for (key, value) in zip(keys, summed.dropFirst(2)) { taskMetrics[key] = value }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        if let allReduce = update.allReduceSeconds { taskMetrics["allreduce_fraction"] = allReduce / seconds }
        return taskMetrics.merging([
            "loss": loss, "learning_rate": Double(update.optimizer.learningRate), "grad_norm": Double(gradNorm),
            "tokens_per_second": Double(tokens) / seconds, "tokens": Double(tokens),
            "epoch": Double((index + 1) * config.gradAccum) / Double(max(1, task.microBatchesPerEpoch)),
        ]) { _, shared in shared }
    }

    public func evaluate() throws -> [String: Double] { try task.evaluate() }

    public func saveCheckpoint(to directory: URL) throws {
        try task.saveModel(to: directory)
        try CheckpointStore.saveOptimizer(update.optimizer, named: named, to: directory)
    }

    public func restoreCheckpoint(from directory: URL) throws {
        try task.loadModel(from: directory)
        try CheckpointStore.restoreOptimizer(update.optimizer, named: named, from: directory)
    }
}

/// One micro-batch's contribution to a step.
public struct MicroBatchLoss {
    /// The mean loss over the micro-batch's tokens or examples, recorded for backward.
    public var loss: Tensor
    /// Tokens processed, padding not counted.
    public var tokens: Int
    /// The algorithm's own statistics (e.g. DPO's `rewards/margins`), averaged over a step's micro-batches.
    public var metrics: [String: Double]
    /// The fraction of the whole micro-batch's mean this rank's shard stands for (its share of the loss-bearing tokens,
    /// pairs or examples); 1 in one process.
    public var share: Double

    public init(loss: Tensor, tokens: Int, metrics: [String: Double] = [:], share: Double = 1) {
        (self.loss, self.tokens, self.metrics, self.share) = (loss, tokens, metrics, share)
    }
}

/// What an algorithm trained by gradient descent contributes: a loss per micro-batch, an evaluation, and how
/// to save and restore its model.
public protocol TrainingTask: AnyObject {
    var name: String { get }
    /// The parameters the optimizer updates, under their checkpoint names.
    var trainableParameters: [(name: String, parameter: Parameter)] { get }
    /// Micro-batches in one pass over the training data.
    var microBatchesPerEpoch: Int { get }
    /// Whether shards of a micro-batch add up to the whole one's gradient (false where the loss needs statistics of
    /// the whole batch, as KTO's KL estimate does).
    var splitsAcrossRanks: Bool { get }
    /// The loss of this rank's `shard` of the `index`-th micro-batch since the start of training.
    func loss(microBatch index: Int, shard: Shard) throws -> MicroBatchLoss
    /// Held-out metrics; empty when there is no held-out data.
    func evaluate() throws -> [String: Double]
    /// Writes the model (a Hugging Face directory, or an adapter) into `directory`.
    func saveModel(to directory: URL) throws
    /// Loads the weights a checkpoint saved.
    func loadModel(from directory: URL) throws
}

extension TrainingTask {
    public var splitsAcrossRanks: Bool { true }

    /// The loss of the whole `index`-th micro-batch.
    public func loss(microBatch index: Int) throws -> MicroBatchLoss { try loss(microBatch: index, shard: .whole) }
}

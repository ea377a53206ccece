import Foundation
import Tensor

/// What one algorithm contributes to the shared training loop: a loss per micro-batch, an evaluation,
/// and how to save and restore its model.
public protocol TrainingTask: AnyObject {
    var name: String { get }
    /// The parameters the optimizer updates, under their checkpoint names.
    var trainableParameters: [(name: String, parameter: Parameter)] { get }
    /// Micro-batches in one pass over the training data.
    var microBatchesPerEpoch: Int { get }
    /// The loss of the `index`-th micro-batch since the start of training (a mean over its tokens or
    /// examples, recorded for backward) and how many tokens (not counting padding) it processed.
    func loss(microBatch index: Int) throws -> (loss: Tensor, tokens: Int)
    /// Held-out metrics (e.g. `eval_loss`); empty when there is no held-out data.
    func evaluate() throws -> [String: Double]
    /// Writes the model (a Hugging Face directory, or an adapter) into `directory`.
    func saveModel(to directory: URL) throws
    /// Loads the weights a checkpoint saved.
    func loadModel(from directory: URL) throws
}

public enum TrainingEvent {
    case started(step: Int, totalSteps: Int)
    case stepEnded(step: Int, totalSteps: Int, metrics: [String: Double])
    case evaluated(step: Int, metrics: [String: Double])
    case checkpointSaved(step: Int, directory: URL)
}

/// The loop every trainer shares: gradient accumulation, clipping, LR schedule, metrics.jsonl, periodic
/// evaluation and resumable checkpoints.
public final class TrainingLoop {
    public let task: any TrainingTask
    public let config: TrainingConfig
    public let output: URL
    public let totalSteps: Int

    public init(task: any TrainingTask, config: TrainingConfig, output: URL, totalSteps: Int) {
        (self.task, self.config, self.output, self.totalSteps) = (task, config, output, totalSteps)
    }

    /// Trains to `totalSteps`, continuing from the newest checkpoint in `output` when `resume` is set.
    /// `onEvent` returns false to stop early (the model is left as it is). Returns the steps taken.
    @discardableResult
    public func run(resume: Bool, onEvent: (TrainingEvent) -> Bool = { _ in true }) throws -> Int {
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        let store = CheckpointStore(output: output)
        let metrics = MetricsLog(directory: output)
        let named = task.trainableParameters
        let parameters = named.map(\.parameter)
        let optimizer = config.makeOptimizer(parameters)
        let schedule = config.learningRateSchedule(totalSteps: totalSteps)
        var step = 0
        store.removeIncomplete()
        if resume, let checkpoint = store.latest() {
            let state = try TrainerState.read(from: checkpoint)
            try task.loadModel(from: checkpoint)
            try store.restoreOptimizer(optimizer, from: checkpoint, named: named)
            step = state.step
            try metrics.truncate(after: step)
        } else {
            try? FileManager.default.removeItem(at: metrics.url)
        }
        guard onEvent(.started(step: step, totalSteps: totalSteps)) else { return step }

        while step < totalSteps {
            let started = DispatchTime.now().uptimeNanoseconds
            optimizer.learningRate = config.learningRate * schedule.multiplier(at: step)
            optimizer.zeroGrad()
            var loss = 0.0, tokens = 0
            for micro in 0..<config.gradAccum {
                let (microLoss, microTokens) = try task.loss(microBatch: step * config.gradAccum + micro)
                try (microLoss * (1 / Float(config.gradAccum))).backward()
                loss += Double(try microLoss.item) / Double(config.gradAccum)
                tokens += microTokens
            }
            let gradNorm = clipGradientNorm(parameters, maxNorm: config.maxGradNorm > 0 ? config.maxGradNorm : .infinity)
            try optimizer.step()
            step += 1
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
            let logged: [String: Double] = [
                "step": Double(step), "loss": loss, "learning_rate": Double(optimizer.learningRate),
                "grad_norm": Double(gradNorm), "tokens_per_second": Double(tokens) / seconds, "tokens": Double(tokens),
                "epoch": Double(step * config.gradAccum) / Double(max(1, task.microBatchesPerEpoch)),
            ]
            try metrics.append(logged)
            guard onEvent(.stepEnded(step: step, totalSteps: totalSteps, metrics: logged)) else { return step }

            if step == totalSteps || (config.evalEvery > 0 && step % config.evalEvery == 0) {
                let evaluation = try withNoGrad { try task.evaluate() }
                if !evaluation.isEmpty {
                    try metrics.append(evaluation.merging(["step": Double(step)]) { a, _ in a })
                    guard onEvent(.evaluated(step: step, metrics: evaluation)) else { return step }
                }
            }
            if config.saveEvery > 0, step % config.saveEvery == 0, step < totalSteps {
                let state = TrainerState(step: step, totalSteps: totalSteps, batchesSeen: step * config.gradAccum,
                                         config: config, trainer: task.name)
                let directory = try store.save(step: step, state: state, optimizer: optimizer, named: named,
                                               saveModel: task.saveModel)
                guard onEvent(.checkpointSaved(step: step, directory: directory)) else { return step }
            }
        }
        return step
    }
}

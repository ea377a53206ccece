import Data
import Distributed
import Foundation
import Models

/// Where a run's metrics go besides metrics.jsonl (keys as the flags: `--tensorboard`, `--logging-dir`).
public struct LoggingConfig: Codable, Sendable, Equatable {
    /// Write TensorBoard event files.
    public var tensorboard = true
    /// Where they go; nil: OUT/runs.
    public var loggingDir: String? = nil

    public init() {}

    func directory(output: URL) -> URL? {
        guard tensorboard else { return nil }
        return loggingDir.map { URL(fileURLWithPath: $0) } ?? output.appendingPathComponent("runs")
    }
}

/// One invocation of a run, from its checks to its result: every run function opens one, builds its trainer and
/// hands it to `train`, which runs the shared loop, saves the final model and records the run.
struct RunSession<Config: RunConfiguration> {
    let config: Config
    let control: RunControl
    let output: URL
    /// The checkpoint the run resumes from; nil when it starts at the first step.
    let checkpoint: URL?
    /// Held until the run ends, so no other job writes into the same directory meanwhile (by rank 0 of a
    /// data-parallel job, which alone writes there).
    private let claim: OutputDirectory?
    private let started = Date()

    /// Validates the configuration, claims the output directory and decides where the run starts
    /// (`TrainingLoop.start`), before anything is loaded.
    init(_ config: Config, _ control: RunControl) throws {
        try config.validate()
        (self.config, self.control, output) = (config, control, URL(fileURLWithPath: config.out))
        // A resume continues a run cut short — it has a checkpoint, or it logged metrics and never wrote the
        // trainer_state.json that comes last — never a finished run or a model some other tool wrote.
        let directory = output
        let exists = { (name: String) in FileManager.default.fileExists(atPath: directory.appendingPathComponent(name).path) }
        let cutShort = !exists(TrainerState.fileName) && (exists("metrics.jsonl") || !OutputDirectory.holdsModel(output))
        let continuing = control.resume && (CheckpointStore(output: output).latest() != nil || cutShort)
        let communicator = control.communicator
        claim = communicator.isLeader
            ? try OutputDirectory(output, inputs: config.inputs.map { URL(fileURLWithPath: $0) }, overwrite: control.overwrite, continuing: continuing)
            : nil
        try communicator.barrier()  // the directory is claimed (and cleared for a fresh run) before any rank reads its checkpoints
        checkpoint = try TrainingLoop.start(config, output: output, control: control)
        PeakMemory.reset()
    }

    func log(_ message: String) { control.log(message) }

    /// Runs `training` to `totalSteps` through the shared loop, then lets `saveFinal` write the model into the
    /// output directory and records the configuration and the loop's state beside it.
    func train(_ training: any SteppedTraining, totalSteps: Int, saveEvery: Int, evalEvery: Int,
               saveFinal: (URL) throws -> Void) throws -> RunResult {
        let communicator = control.communicator
        guard communicator.size == 1 || training.splitsAcrossRanks else {
            throw JobError("\(training.name) does not train data-parallel yet; run it as one process")
        }
        let metrics = MetricsSink(output: output, tensorBoardDirectory: config.logging.directory(output: output),
                                  writesFiles: communicator.isLeader)
        let loop = TrainingLoop(training: training, totalSteps: totalSteps, output: output, saveEvery: saveEvery,
                                evalEvery: evalEvery, metrics: metrics, communicator: communicator)
        let (steps, stoppedEarly) = try loop.run(config, from: checkpoint, control: control)
        if let stoppedEarly { log(stoppedEarly) }
        if communicator.isLeader {
            try saveFinal(output)
            try config.write(to: output)
            try TrainerState(step: steps, totalSteps: totalSteps, trainer: training.name).write(to: output)
            log("saved \(output.path)")
        }
        return RunResult(output: output.path, steps: steps, metrics: metrics.latest, logHistory: metrics.history, seconds: Date().timeIntervalSince(started),
                         peakMemoryBytes: PeakMemory.bytes, stoppedEarly: stoppedEarly)
    }

    /// `train` for a gradient-descent task: the step count from the data, the cadence from `training`.
    func train(gradientDescent task: any TrainingTask, training: TrainingConfig, examples: Int,
               saveFinal: (URL) throws -> Void) throws -> RunResult {
        let totalSteps = training.totalSteps(exampleCount: examples)
        let communicator = control.communicator
        if let reason = communicator.shard.emptyPartReason(examples: examples, batchSize: training.batchSize, microBatches: totalSteps * training.gradAccum) {
            throw JobError("data-parallel: \(reason); choose a batch size that gives every rank at least one example")
        }
        return try train(GradientDescent(task: task, config: training, totalSteps: totalSteps, communicator: communicator),
                         totalSteps: totalSteps, saveEvery: training.saveEvery, evalEvery: training.evalEvery, saveFinal: saveFinal)
    }
}

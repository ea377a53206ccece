import Alignment
import ArgumentParser
import Data
import Distributed
import Foundation

/// Help text ending in the library's default, written as `--print-config` and generated command lines write it.
func help<T: Encodable>(_ text: String, default value: T) -> ArgumentHelp {
    let shown = (try? ConfigCoding.tree(value))?.description ?? "\(value)"
    return ArgumentHelp("\(text) (default: \(shown))")
}

/// Sets `field` to a flag's value when the flag was given.
func set<T>(_ field: inout T, _ flag: T?) {
    if let flag { field = flag }
}

/// Sets an optional field when the flag was given.
func set<T>(_ field: inout T?, _ flag: T?) {
    if let flag { field = flag }
}

/// How every training command starts and reports: a configuration file, resuming, and the output.
struct RunFlags: ParsableArguments {
    @Option(help: "A JSON configuration (as --print-config writes it; fields left out keep their defaults). Flags given as well override its fields.")
    var config: String?

    @Flag(help: "Continue from the newest checkpoint in the output directory.")
    var resume = false

    @Flag(help: "With --resume: continue although settings that change the result differ from the checkpoint's.")
    var allowConfigChange = false

    @Flag(help: "Start afresh in an output directory that holds a model or an earlier run, replacing them (never the input model).")
    var overwrite = false

    @Flag(help: "Print the configuration these flags make, as JSON, and exit without training.")
    var printConfig = false

    @Flag(help: "Print the run's result (steps, last metrics, time, peak memory) as one JSON object on stdout.")
    var json = false

    /// The configuration: the file's (or the defaults), then every flag given.
    func configuration<Config: RunConfiguration>(_ apply: (inout Config) -> Void) throws -> Config {
        var config = try self.config.map { try ConfigCoding.load(URL(fileURLWithPath: $0), over: Config()) } ?? Config()
        apply(&config)
        return config
    }

    /// Prints the configuration, or runs it with progress on stderr and prints its result.
    func execute<Config: RunConfiguration>(_ config: Config, _ run: (Config, RunControl) throws -> RunResult) throws {
        if printConfig { return print(String(decoding: try ConfigCoding.encode(config), as: UTF8.self)) }
        let communicator = try Launch.communicator()
        defer { communicator.finish() }
        if communicator.size > 1 { sayWhenTheLauncherStops(communicator) }
        let reporter = TrainingReporter()
        let control = RunControl(resume: resume, allowConfigChange: allowConfigChange, overwrite: overwrite, communicator: communicator,
                                 onEvent: communicator.isLeader ? reporter.handle : { _ in true })
        let result: RunResult
        do {
            result = try run(config, control)
        } catch where communicator.size > 1 {
            // Every rank says why, then the job ends on all of them rather than leave the others waiting.
            FileHandle.standardError.write(Foundation.Data("Error: rank \(communicator.rank) of \(communicator.size): \(error)\n".utf8))
            communicator.abort(code: 1)
        }
        guard communicator.isLeader else { return }
        if let fraction = result.meanAllReduceFraction {
            reporter.log(String(format: "data-parallel over %d ranks: all-reduce took %.1f%% of step time", communicator.size, 100 * fraction))
        }
        if json {
            return try printJSON(PrintedResult(output: result.output, steps: result.steps, metrics: result.metrics, seconds: result.seconds,
                                               peakMemoryBytes: result.peakMemoryBytes, stoppedEarly: result.stoppedEarly))
        }
        reporter.log(String(format: "%d steps in %.1f s, peak memory %.0f MB", result.steps, result.seconds,
                            Double(result.peakMemoryBytes) / 1_048_576))
    }
}

/// What `--json` prints of a run's result: everything but the per-step history, which metrics.jsonl holds.
struct PrintedResult: Encodable {
    let output: String, steps: Int, metrics: [String: Double], seconds: Double, peakMemoryBytes: Int, stoppedEarly: String?
}

/// The optimisation flags of every gradient-descent run, with that run's defaults in `--help`.
struct TrainingFlags<Config: GradientRunConfiguration>: ParsableArguments {
    @Option(help: "Optimizer steps to take (overrides --epochs).")
    var steps: Int?

    @Option(help: help("Passes over the training data.", default: Config().training.epochs))
    var epochs: Double?

    @Option(help: help("Examples per micro-batch.", default: Config().training.batchSize))
    var batchSize: Int?

    @Option(help: help("Micro-batches accumulated into one optimizer step.", default: Config().training.gradAccum))
    var gradAccum: Int?

    @Option(help: help("Peak learning rate.", default: Config().training.learningRate))
    var lr: Float?

    @Option(help: help("adamw or sgd.", default: Config().training.optimizer))
    var optimizer: TrainingConfig.OptimizerKind?

    @Option(help: help("Weight decay (decoupled for AdamW; biases and norm gains are exempt).", default: Config().training.weightDecay))
    var weightDecay: Float?

    @Option(help: help("SGD's momentum.", default: Config().training.momentum))
    var momentum: Float?

    @Option(help: help("Learning-rate schedule after warm-up: constant, cosine or linear (decay to 0).", default: Config().training.schedule))
    var lrSchedule: TrainingConfig.ScheduleKind?

    @Option(help: help("Steps of linear warm-up from 0.", default: Config().training.warmupSteps))
    var warmupSteps: Int?

    @Option(help: help("Clip the global gradient norm to this (0 = off).", default: Config().training.maxGradNorm))
    var maxGradNorm: Float?

    @Option(help: help("Seed for shuffling, the eval split, initialisation and dropout.", default: Config().training.seed))
    var seed: UInt64?

    @Flag(inversion: .prefixedNo, help: help("Visit the data in a new order each epoch (--no-shuffle: file order).", default: Config().training.shuffle))
    var shuffle: Bool?

    @Option(help: help("Save a resumable checkpoint every N steps (0 = only the final model).", default: Config().training.saveEvery))
    var saveEvery: Int?

    @Option(help: help("Evaluate every N steps (0 = only at the end).", default: Config().training.evalEvery))
    var evalEvery: Int?

    func apply(to config: inout TrainingConfig) {
        set(&config.steps, steps)
        set(&config.epochs, epochs)
        set(&config.batchSize, batchSize)
        set(&config.gradAccum, gradAccum)
        set(&config.learningRate, lr)
        set(&config.optimizer, optimizer)
        set(&config.weightDecay, weightDecay)
        set(&config.momentum, momentum)
        set(&config.schedule, lrSchedule)
        set(&config.warmupSteps, warmupSteps)
        set(&config.maxGradNorm, maxGradNorm)
        set(&config.seed, seed)
        set(&config.shuffle, shuffle)
        set(&config.saveEvery, saveEvery)
        set(&config.evalEvery, evalEvery)
    }
}

/// `--lora-rank R` and friends: train LoRA adapters instead of every weight.
struct LoRAFlags: ParsableArguments {
    @Option(help: help("LoRA rank; 0 trains every weight of the model instead.", default: LoRAConfig().rank))
    var loraRank: Int?

    @Option(help: help("LoRA alpha: the adapters' update is scaled by alpha / rank.", default: LoRAConfig().alpha))
    var loraAlpha: Float?

    @Option(help: help("Dropout on the adapters' input while training.", default: LoRAConfig().dropout))
    var loraDropout: Float?

    @Option(help: "Module names to adapt, comma-separated or repeated, e.g. q_proj,v_proj (default: the attention projections, c_attn for GPT-2, q_proj,v_proj for the Llama family, q,v for T5).")
    var loraTargets: [String] = []

    func apply(to config: inout LoRAConfig) {
        set(&config.rank, loraRank)
        set(&config.alpha, loraAlpha)
        set(&config.dropout, loraDropout)
        if !loraTargets.isEmpty {
            config.targets = loraTargets.flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        }
    }
}

/// `--tensorboard` and `--logging-dir`.
struct LoggingFlags: ParsableArguments {
    @Flag(inversion: .prefixedNo, help: help("Write TensorBoard event files (tensorboard --logdir OUT shows them).", default: LoggingConfig().tensorboard))
    var tensorboard: Bool?

    @Option(help: "Where the event files go (default: OUT/runs).")
    var loggingDir: String?

    func apply(to config: inout LoggingConfig) {
        set(&config.tensorboard, tensorboard)
        set(&config.loggingDir, loggingDir)
    }
}

extension TrainingConfig.OptimizerKind: ExpressibleByArgument {}
extension TrainingConfig.ScheduleKind: ExpressibleByArgument {}

/// `--data`, `--eval-data`, `--eval-split`, `--max-length`, with the run's defaults in `--help`.
struct DatasetFlags<Config: DatasetRunConfiguration>: ParsableArguments {
    @Option(help: "Training data (JSONL).")
    var data: String?

    @Option(help: "Held-out data (JSONL) instead of --eval-split.")
    var evalData: String?

    @Option(help: help("Fraction of the data held out for evaluation.", default: Config().dataset.evalSplit))
    var evalSplit: Double?

    @Option(help: help("Truncate prompt + completion to this many tokens.", default: Config().dataset.maxLength))
    var maxLength: Int?

    func apply(to config: inout DatasetConfig) {
        set(&config.data, data)
        set(&config.evalData, evalData)
        set(&config.evalSplit, evalSplit)
        set(&config.maxLength, maxLength)
    }
}

extension RunResult {
    /// The mean, over the steps logged, of the share of step time spent summing gradients over the ranks.
    var meanAllReduceFraction: Double? {
        let fractions = logHistory.compactMap { $0["allreduce_fraction"] }
        return fractions.isEmpty ? nil : fractions.reduce(0, +) / Double(fractions.count)
    }
}

/// When one rank of a job fails, mpirun ends the others with SIGTERM: each says so in one line as it goes.
private func sayWhenTheLauncherStops(_ communicator: any Communicator) {
    launcherStopLine = strdup("Error: rank \(communicator.rank) of \(communicator.size): stopped by the launcher (another rank failed)\n")
    signal(SIGTERM) { _ in
        if let line = launcherStopLine { write(2, line, strlen(line)) }
        _exit(1)
    }
}

nonisolated(unsafe) private var launcherStopLine: UnsafeMutablePointer<CChar>?

import Alignment
import Data
import Feedback
import Foundation
import Models
import Tokenizer

/// How much work each stage of the demo does.
public struct DemoScale: Sendable {
    public var data = AssistantData.Sizes()
    public var vocabularySize = 600
    public var pretrainSteps = 1000
    public var sftEpochs = 3
    public var rewardEpochs = 3
    public var ppoIterations = 80
    /// The β = 0 run collapses within a dozen iterations (seed 42: KL 10 nats/token by the 11th), so half as many show it.
    public var ablationIterations = 40
    public var ppoBatchSize = 32
    public var dpoEpochs: Double = 1
    public var grpoSteps = 80
    public var evalSamplesPerPrompt = 4
    public var labelersFlagNonsense = true
    /// With AI feedback: items whose human consensus pairs teach the judge, items the AI labeler then ranks, and the
    /// judge's epochs.
    public var judgeItems = 60
    public var aiItems = 300
    public var judgeEpochs = 3

    public static let full = DemoScale()

    /// Every stage in seconds: for tests of the plumbing.
    public static var quick: DemoScale {
        var scale = DemoScale()
        (scale.data.pretrainingDocuments, scale.data.demonstrations, scale.data.labelingPrompts) = (400, 64, 12)
        (scale.data.ppoPrompts, scale.data.evalPrompts) = (16, 8)
        (scale.vocabularySize, scale.pretrainSteps, scale.sftEpochs, scale.rewardEpochs) = (300, 4, 1, 1)
        (scale.ppoIterations, scale.ablationIterations, scale.ppoBatchSize) = (2, 2, 8)
        (scale.dpoEpochs, scale.grpoSteps, scale.evalSamplesPerPrompt) = (0.1, 2, 1)
        (scale.judgeItems, scale.aiItems, scale.judgeEpochs) = (4, 6, 1)
        scale.labelersFlagNonsense = false  // an undertrained model writes little else
        return scale
    }
}

/// What a demo run may vary; the defaults are `rlhf demo`'s.
public struct DemoSettings: Codable, Sendable {
    /// Seeds the task data and every stage.
    public var seed: UInt64 = 42
    /// β of the PPO run.
    public var klCoefficient = 0.1
    /// The per-token KL to the SFT model the PPO policy must stay under.
    public var klBudget = 0.3
    /// A few steps of every stage, to check the plumbing in seconds (the results mean nothing).
    public var quick = false
    /// `ai` adds RLAIF: a judge model taught by a few hundred human comparisons labels other items, and reward → PPO
    /// run again from its labels alone (the β = 0 ablation, DPO and GRPO are left out to make room).
    public var feedback = DemoFeedback.human

    public init() {}
}

/// Where the demo's preferences come from: the simulated humans only, or also an AI labeler.
public enum DemoFeedback: String, Codable, Sendable, CaseIterable {
    case human, ai
}

/// `rlhf demo` as a library: the whole RLHF pipeline on the built-in assistant task, each stage a library run
/// with a typed configuration, printed as the equivalent command (generated from that configuration).
public final class DemoPipeline {
    public let out: URL
    public let settings: DemoSettings
    public let scale: DemoScale
    /// Skip the stages an earlier, interrupted demo in `out` finished; resume a training stage it cut short.
    public let resume: Bool
    private let onEvent: (RunEvent) -> Bool
    var summary: DemoSummary
    var seed: UInt64 { settings.seed }

    /// `onEvent` hears every stage's messages and training progress.
    public init(out: URL, settings: DemoSettings = DemoSettings(), resume: Bool = false, onEvent: @escaping (RunEvent) -> Bool = { _ in true }) {
        (self.out, self.settings, self.resume, self.onEvent) = (out, settings, resume, onEvent)
        scale = settings.quick ? .quick : .full
        summary = DemoSummary(seed: settings.seed)
        (summary.klCoefficient, summary.klBudgetPerToken) = (settings.klCoefficient, settings.klBudget)
    }

    func path(_ relative: String) -> String { out.appendingPathComponent(relative).path }
    func log(_ message: String) { _ = onEvent(.message(message)) }

    /// Runs every stage and writes `summary.json` and `report.html` into `out`.
    public func run() throws -> DemoSummary {
        let started = Date()
        try FileManager.default.createDirectory(at: out.appendingPathComponent("data"), withIntermediateDirectories: true)
        let data = AssistantData(seed: seed, sizes: scale.data)
        try writeData(data)

        try stage("tokenizer", TokenizerTrainingConfig(data: [path("data/pretrain.txt")], vocabSize: scale.vocabularySize,
                                                       out: path("tokenizer"))) { config in _ = try config.run() }
        var pretrain = PretrainConfig()
        (pretrain.data, pretrain.tokenizer, pretrain.out, pretrain.evalSplit) = (path("data/pretrain.txt"), path("tokenizer"), path("base"), 0.02)
        (pretrain.training.steps, pretrain.training.batchSize, pretrain.training.learningRate) = (scale.pretrainSteps, 8, 2e-3)
        (pretrain.training.schedule, pretrain.training.warmupSteps, pretrain.training.saveEvery) = (.cosine, 20, 100)
        pretrain.training.seed = seed
        try train("pretrain", pretrain) { try $0.run($1) }
        let base = URL(fileURLWithPath: path("base"))
        summary.modelParameters = try ModelDirectory.load(base).parameterCount
        summary.pretrainingTokens = try Tokenizer(directory: base).encode(data.pretrainingText).count

        var sft = SFTConfig()
        (sft.model, sft.dataset.data, sft.out, sft.dataset.maxLength, sft.dataset.evalSplit) = (path("base"), path("data/demonstrations.jsonl"), path("sft"), 96, 0.05)
        (sft.training.epochs, sft.training.batchSize, sft.training.learningRate) = (Double(scale.sftEpochs), 16, 1e-3)
        (sft.training.schedule, sft.training.seed) = (.cosine, seed)
        let sftRun = try train("sft", sft) { try $0.run($1) }

        var complete = CompletionConfig()
        (complete.model, complete.prompts, complete.n, complete.out) = (path("sft"), path("data/labeling_prompts.jsonl"), 4, path("feedback/completions.jsonl"))
        (complete.temperature, complete.maxNewTokens, complete.batchPrompts, complete.seed) = (1, 32, 16, seed)
        try stage("complete", complete) { config in _ = try config.run() }
        try label()

        var reward = RewardConfig()
        (reward.model, reward.dataset.data, reward.out, reward.dataset.evalSplit) = (path("sft"), path("feedback/pairs.jsonl"), path("reward"), 0.1)
        (reward.training.epochs, reward.training.batchSize, reward.training.learningRate, reward.training.seed) = (Double(scale.rewardEpochs), 8, 3e-4, seed)
        summary.rewardHeldOutAccuracy = try train("reward", reward) { try $0.run($1) }.metrics["eval_accuracy"]

        var ppo = PPOConfig()
        (ppo.policy, ppo.reward, ppo.prompts) = (path("sft"), path("reward"), path("data/ppo_prompts.jsonl"))
        (ppo.iterations, ppo.batchSize, ppo.miniBatches, ppo.ppoEpochs) = (scale.ppoIterations, scale.ppoBatchSize, 2, 4)
        (ppo.learningRate, ppo.temperature, ppo.maxNewTokens, ppo.saveEvery, ppo.seed) = (1e-4, 1, 24, 20, seed)
        var tuned = ppo
        (tuned.out, tuned.ppo.klCoefficient) = (path("policy"), Float(settings.klCoefficient))
        let ppoRun = try train("ppo", tuned) { try $0.run($1) }
        summary.ppoCurve = Self.curve(ppoRun)
        var training = [DemoReport.sft: sftRun, DemoReport.policy: ppoRun]
        if settings.feedback == .ai {
            training[DemoReport.aiPolicy] = try aiFeedback(reward: reward, ppo: tuned)
        } else {
            var ablation = ppo
            (ablation.out, ablation.ppo.klCoefficient, ablation.iterations) = (path("ablation-kl0"), 0, scale.ablationIterations)
            let ablationRun = try train("ppo β=0", ablation) { try $0.run($1) }
            summary.ablationCurve = Self.curve(ablationRun)
            training[DemoReport.ablation] = ablationRun
        }

        // With AI feedback the comparison is human vs AI labels through the same reward → PPO path; DPO and GRPO are
        // left out to keep the demo within 15 minutes on two cores.
        if settings.feedback == .human {
            var dpo = DPOConfig()
            (dpo.model, dpo.dataset.data, dpo.out, dpo.dataset.evalSplit, dpo.dataset.maxLength) = (path("sft"), path("feedback/pairs.jsonl"), path("dpo"), 0.05, 96)
            // β 0.5 keeps the tiny policy near the SFT model: at β 0.1 it wandered to 1.5 nats/token of KL (seed 42).
            (dpo.beta, dpo.training.epochs, dpo.training.batchSize, dpo.training.learningRate) = (0.5, scale.dpoEpochs, 16, 5e-5)
            (dpo.training.schedule, dpo.training.warmupSteps, dpo.training.saveEvery, dpo.training.seed) = (.linear, 10, 100, seed)
            let dpoRun = try train("dpo", dpo) { try $0.run($1) }
            training[DemoReport.dpo] = dpoRun
            summary.dpoCurve = dpoRun.logHistory.compactMap { line in
                guard let margin = line["rewards/margins"], let accuracy = line["rewards/accuracies"], let step = line["step"] else { return nil }
                return DemoSummary.DPOPoint(step: Int(step), margin: margin, accuracy: accuracy)
            }

            var grpo = GRPOConfig()
            (grpo.policy, grpo.rewards.reward, grpo.prompts, grpo.out) = (path("sft"), [path("reward")], path("data/ppo_prompts.jsonl"), path("grpo"))
            (grpo.steps, grpo.batchSize, grpo.numGenerations, grpo.maxCompletionLength) = (scale.grpoSteps, scale.ppoBatchSize, 8, 24)
            // TRL's lr 1e-6 is for billion-parameter models; β 0.04 (TRL's former default) keeps the tiny policy near SFT.
            (grpo.learningRate, grpo.lrSchedule, grpo.beta, grpo.saveEvery, grpo.seed) = (5e-5, .constant, 0.04, 20, seed)
            // Dividing by each group's own std blows up the reward model's noise between near-identical replies; with
            // the group std (seed 42) arithmetic accuracy fell from 47% to 29%, with the batch std it held (47%).
            grpo.scaleRewards = .batch
            let grpoRun = try train("grpo", grpo) { try $0.run($1) }
            training[DemoReport.grpo] = grpoRun
            summary.grpoCurve = grpoRun.logHistory.compactMap { line in
                guard let reward = line["reward"], let kl = line["kl"], let step = line["step"] else { return nil }
                return DemoSummary.GRPOPoint(step: Int(step), reward: reward, kl: kl)
            }
        }

        try evaluate(prompts: data.evalPrompts.map(\.modelPrompt), training: training)
        summary.totalSeconds = Date().timeIntervalSince(started)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try encoder.encode(summary).write(to: URL(fileURLWithPath: path("summary.json")))
        try Data(DemoReport.html(summary).utf8).write(to: URL(fileURLWithPath: path("report.html")))
        return summary
    }

    // MARK: - Stages

    /// A labeling project `project` of the completions in `file`, ranked by the simulated panel through the store, in
    /// three recorded stages (create, import, label); returns the panel.
    func simulatedLabeling(project: Int64, name: String, file: String, stages: (create: String, import: String, label: String),
                           labelCommand: String) throws -> [SimulatedLabeler] {
        let database = path("feedback/feedback.sqlite")
        let store = try FeedbackStore(path: database)
        _ = try record(stages.create, command: "(POST /api/projects on `rlhf serve`)") {
            let created = try runAsync {
                try await store.createProject(ProjectSettings(
                    name: name, guidelines: "Rank the assistant's replies: correct, helpful and polite first.",
                    criterion: "overall quality", labelersPerItem: 3))
            }
            guard created == project else { throw JobError("\(database) already holds other projects") }
            return nil
        }
        try stage(stages.import, FeedbackImportConfig(db: database, project: project, file: file)) { config in
            log("added \(try config.run()) items to project \(project)")
        }
        let (seed, panel) = (seed, SimulatedLabeler.demoPanel(flagsNonsense: scale.labelersFlagNonsense))
        _ = try record(stages.label, command: labelCommand) {
            _ = try runAsync { try await store.label(project: project, with: panel, seed: seed) }
            return nil
        }
        return panel
    }

    /// What `DIR/stages/<name>.json` keeps of a finished stage, so a resumed demo can skip it.
    struct StageRecord: Codable {
        var stage: DemoSummary.Stage
        var result: RunResult?
    }

    /// A training stage: the run with this pipeline's progress, resumed when an interrupted demo had begun it.
    @discardableResult
    func train<Config: RunConfiguration>(_ name: String, _ config: Config,
                                                 _ body: (Config, RunControl) throws -> RunResult) throws -> RunResult {
        let begun = resume && FileManager.default.fileExists(atPath: config.out)
        let control = RunControl(resume: begun, onEvent: onEvent)
        return try record(name, command: config.commandLine) { try body(config, control) }!
    }

    /// A stage that is not a training run.
    func stage<Config: JobConfiguration>(_ name: String, _ config: Config, _ body: (Config) throws -> Void) throws {
        _ = try record(name, command: config.commandLine) {
            try body(config)
            return nil
        }
    }

    /// Runs a stage and records its duration and result; with `resume`, a stage finished by an earlier run is
    /// skipped and its record read back.
    func record(_ name: String, command: String, _ body: () throws -> RunResult?) throws -> RunResult? {
        let file = out.appendingPathComponent("stages/\(name).json")
        if resume, let data = try? Data(contentsOf: file), let done = try? ConfigCoding.decode(StageRecord.self, from: data) {
            log("\n[\(name)] done by an earlier run, skipped")
            summary.stages.append(done.stage)
            return done.result
        }
        log("\n[\(name)] $ \(command)")
        let begun = Date()
        PeakMemory.reset()
        let result = try body()
        let stage = DemoSummary.Stage(name: name, command: command, seconds: Date().timeIntervalSince(begun),
                                      peakMemoryBytes: result?.peakMemoryBytes ?? PeakMemory.bytes)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try ConfigCoding.encode(StageRecord(stage: stage, result: result)).write(to: file)
        summary.stages.append(stage)
        return result
    }

    private func writeData(_ data: AssistantData) throws {
        try Data(data.pretrainingText.utf8).write(to: URL(fileURLWithPath: path("data/pretrain.txt")))
        struct SFTLine: Encodable { let prompt: String, completion: String }
        try JSONLines.write(data.demonstrations.map { SFTLine(prompt: $0.prompt, completion: $0.completion) },
                            to: URL(fileURLWithPath: path("data/demonstrations.jsonl")))
        // Subtraction prompts carry their results, for rewards from code (`rlhf grpo --reward-fn contains`).
        struct PromptLine: Encodable { let id: String, prompt: String, answers: [String]? }
        let line = { (id: String, prompt: AssistantTask.Prompt) in PromptLine(id: id, prompt: prompt.modelPrompt, answers: prompt.answers) }
        for (name, prompts) in [("labeling", data.labelingPrompts), ("ppo", data.ppoPrompts), ("eval", data.evalPrompts),
                                ("arithmetic", data.arithmeticPrompts), ("arithmetic_eval", data.arithmeticEvalPrompts)] {
            try JSONLines.write(prompts.enumerated().map { line("\(name)-\($0.offset)", $0.element) },
                                to: URL(fileURLWithPath: path("data/\(name)_prompts.jsonl")))
        }
        summary.demonstrations = data.demonstrations.count
        summary.demonstrationMistakeRate = Double(data.demonstrations.filter {
            Rubric.grade(prompt: $0.prompt, reply: $0.completion).score < 100
        }.count) / Double(data.demonstrations.count)
    }

    /// Step 2's humans: the completions go into a feedback project, three simulated labelers rank them through the
    /// store, and the consensus pairs (without labelers found unreliable) are exported.
    private func label() throws {
        let database = path("feedback/feedback.sqlite")
        let project: Int64 = 1
        let panel = try simulatedLabeling(project: project, name: "rlhf demo", file: path("feedback/completions.jsonl"),
                                          stages: ("project", "import", "label"),
                                          labelCommand: "(three simulated labelers, one unreliable, rank every item through the feedback store)")
        let statsJob = FeedbackStatsConfig(db: database, project: project)
        let analysis = try statsJob.analysis()
        let stats = ProjectStats(analysis)
        try stage("stats", statsJob) { _ in log(stats.report) }
        (summary.labelingItems, summary.judgments, summary.agreement) = (stats.progress.items, stats.progress.submissions, stats.agreement)
        summary.labelers = stats.labelers.map { quality in
            DemoSummary.Labeler(name: quality.name, reliableBySimulation: panel.first { $0.name == quality.name }?.reliable ?? true,
                                judgments: quality.submissions, tau: quality.tau, flaggedUnreliable: quality.unreliable)
        }
        summary.agreementWithoutUnreliable = ProjectStats(analysis.excludingUnreliable()).agreement
        var export = FeedbackExportConfig()
        (export.db, export.project, export.format, export.excludeUnreliable, export.out) = (database, project, .pairs, true, path("feedback/pairs.jsonl"))
        try stage("export", export) { config in
            let lines = try config.run().count { $0 == UInt8(ascii: "\n") }
            log("wrote \(lines) pairs lines to \(config.out)")
        }
        summary.preferencePairs = try JSONLines.records(URL(fileURLWithPath: path("feedback/pairs.jsonl"))).count
    }

    /// Every model answers the evaluation prompts; the reward model's view and the hidden rubric's, with each tuned
    /// model's training time and peak memory.
    private func evaluate(prompts: [String], training: [String: RunResult]) throws {
        var eval = EvalConfig()
        (eval.model, eval.baseline, eval.reward, eval.prompts) = (path("policy"), path("sft"), path("reward"), path("data/eval_prompts.jsonl"))
        (eval.maxNewTokens, eval.temperature, eval.samples, eval.seed) = (24, 1, scale.evalSamplesPerPrompt, seed)
        let evaluation = RubricEvaluation(
            prompts: prompts, tokenizer: try Tokenizer(directory: URL(fileURLWithPath: path("sft"))),
            rewardModel: try ModelDirectory.loadRewardModel(URL(fileURLWithPath: path("reward"))), maxNewTokens: eval.maxNewTokens,
            samplesPerPrompt: eval.samples, seed: seed)
        let directory = out
        let load = { (name: String) in try ModelDirectory.load(directory.appendingPathComponent(name)) }
        // Always run, also when resuming: it is quick and reads every model as it now is.
        let others = [DemoReport.dpo, DemoReport.grpo, DemoReport.aiPolicy, DemoReport.ablation].filter { training[$0] != nil }
        let command = eval.commandLine + "  (and --model " + others.map { path($0) }.joined(separator: ", ") + ")"
        log("\n[eval] $ \(command)")
        let begun = Date()
        PeakMemory.reset()
        (summary.results, summary.samples) = try evaluation.run(
            sft: try load("sft"), tuned: try ([DemoReport.policy] + others).map { ($0, try load($0)) }, sampleCount: 12)
        summary.stages.append(DemoSummary.Stage(name: "eval", command: command, seconds: Date().timeIntervalSince(begun),
                                                peakMemoryBytes: PeakMemory.bytes))
        for index in summary.results.indices {
            guard let run = training[summary.results[index].name] else { continue }
            (summary.results[index].trainingSeconds, summary.results[index].peakMemoryBytes) = (run.seconds, run.peakMemoryBytes)
        }
    }

    static func curve(_ run: RunResult) -> [DemoSummary.CurvePoint] {
        run.logHistory.map { line in
            DemoSummary.CurvePoint(iteration: Int(line["step"] ?? 0), score: line["objective/scores"] ?? .nan,
                                   kl: line["objective/kl"] ?? .nan, rlhfReward: line["objective/rlhf_reward"] ?? .nan)
        }
    }
}

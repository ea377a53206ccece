import Alignment
import ArgumentParser
import Data
import Demo
import Feedback
import Foundation
import Models
import Tokenizer

/// How much work each stage of the demo does.
struct DemoScale {
    var data = AssistantData.Sizes()
    var vocabularySize = 600
    var pretrainSteps = 1000
    var sftEpochs = 3
    var rewardEpochs = 3
    var ppoIterations = 80
    var ppoBatchSize = 32
    var evalSamplesPerPrompt = 4
    var labelersFlagNonsense = true

    static let full = DemoScale()

    /// Every stage in seconds: for tests of the plumbing.
    static var quick: DemoScale {
        var scale = DemoScale()
        (scale.data.pretrainingDocuments, scale.data.demonstrations, scale.data.labelingPrompts) = (400, 64, 12)
        (scale.data.ppoPrompts, scale.data.evalPrompts) = (16, 8)
        (scale.vocabularySize, scale.pretrainSteps, scale.sftEpochs, scale.rewardEpochs) = (300, 4, 1, 1)
        (scale.ppoIterations, scale.ppoBatchSize, scale.evalSamplesPerPrompt) = (2, 8, 1)
        scale.labelersFlagNonsense = false  // an undertrained model writes little else
        return scale
    }
}

/// The stages of `rlhf demo`, each run in-process through the same command a user would type.
struct DemoPipeline {
    let out: URL
    let seed: UInt64
    let klCoefficient: Double
    let klBudget: Double
    let scale: DemoScale
    let resume: Bool
    var summary: DemoSummary
    private let started = Date()

    init(out: URL, seed: UInt64, klCoefficient: Double, klBudget: Double, scale: DemoScale, resume: Bool) {
        (self.out, self.seed, self.klCoefficient, self.klBudget, self.scale, self.resume) = (out, seed, klCoefficient, klBudget, scale, resume)
        summary = DemoSummary(seed: seed)
        (summary.klCoefficient, summary.klBudgetPerToken) = (klCoefficient, klBudget)
    }

    private func path(_ relative: String) -> String { out.appendingPathComponent(relative).path }

    mutating func run() throws {
        try FileManager.default.createDirectory(at: out.appendingPathComponent("data"), withIntermediateDirectories: true)
        let data = AssistantData(seed: seed, sizes: scale.data)
        try writeData(data)
        let seedFlag = ["--seed", "\(seed)"]

        try stage("tokenizer", TokenizerTrainCommand.self, "tokenizer train",
                  ["--data", path("data/pretrain.txt"), "--vocab-size", "\(scale.vocabularySize)", "--out", path("tokenizer")])
        try stage("pretrain", PretrainCommand.self, "pretrain",
                  ["--data", path("data/pretrain.txt"), "--tokenizer", path("tokenizer"), "--out", path("base"), "--preset", "tiny",
                   "--steps", "\(scale.pretrainSteps)", "--batch-size", "8", "--lr", "2e-3", "--lr-schedule", "cosine",
                   "--warmup-steps", "20", "--eval-split", "0.02", "--save-every", "100"] + seedFlag + resuming("base"))
        let base = out.appendingPathComponent("base")
        summary.modelParameters = try ModelDirectory.load(base).parameterCount
        summary.pretrainingTokens = try Tokenizer(directory: base).encode(data.pretrainingText).count
        try stage("sft", SFTCommand.self, "sft",
                  ["--model", path("base"), "--data", path("data/demonstrations.jsonl"), "--out", path("sft"),
                   "--epochs", "\(scale.sftEpochs)", "--batch-size", "16", "--lr", "1e-3", "--lr-schedule", "cosine",
                   "--max-length", "96", "--eval-split", "0.05"] + seedFlag + resuming("sft"))
        try stage("complete", CompleteCommand.self, "complete",
                  ["--model", path("sft"), "--prompts", path("data/labeling_prompts.jsonl"), "-n", "4", "--out",
                   path("feedback/completions.jsonl"), "--temperature", "1", "--max-new-tokens", "32", "--batch-prompts", "16"] + seedFlag)
        try label()
        try stage("reward", RewardTrainCommand.self, "reward train",
                  ["--model", path("sft"), "--data", path("feedback/pairs.jsonl"), "--out", path("reward"),
                   "--epochs", "\(scale.rewardEpochs)", "--batch-size", "8", "--lr", "3e-4", "--eval-split", "0.1"] + seedFlag
                  + resuming("reward"))
        summary.rewardHeldOutAccuracy = try Self.metrics(path("reward/metrics.jsonl")).last { $0["eval_accuracy"] != nil }?["eval_accuracy"]
        let ppo = ["--policy", path("sft"), "--reward", path("reward"), "--prompts", path("data/ppo_prompts.jsonl"),
                   "--iterations", "\(scale.ppoIterations)", "--batch-size", "\(scale.ppoBatchSize)", "--mini-batches", "2",
                   "--ppo-epochs", "4", "--lr", "1e-4", "--temperature", "1", "--max-new-tokens", "24", "--save-every", "20"] + seedFlag
        try stage("ppo", PPOCommand.self, "ppo", ppo + ["--out", path("policy"), "--kl-coef", "\(klCoefficient)"] + resuming("policy"))
        summary.ppoCurve = try Self.curve(path("policy/metrics.jsonl"))
        try stage("ppo β=0", PPOCommand.self, "ppo", ppo + ["--out", path("ablation-kl0"), "--kl-coef", "0"] + resuming("ablation-kl0"))
        summary.ablationCurve = try Self.curve(path("ablation-kl0/metrics.jsonl"))
        try evaluate(prompts: data.evalPrompts.map(\.modelPrompt))
        try finish()
    }

    /// Runs one command in-process, printing it as a user would type it.
    private mutating func stage<Command: ParsableCommand>(_ name: String, _ type: Command.Type, _ commandName: String,
                                                          _ arguments: [String]) throws {
        let line = "rlhf \(commandName) " + arguments.map { $0.contains(" ") ? "'\($0)'" : $0 }.joined(separator: " ")
        try stage(name, command: line) {
            var command = try type.parse(arguments)
            try command.run()
        }
    }

    /// Runs a stage and records its duration; with --resume, a stage finished by an earlier run is skipped (its
    /// record, kept in DIR/stages/, says how long it took).
    private mutating func stage(_ name: String, command: String, _ body: () throws -> Void) throws {
        let record = out.appendingPathComponent("stages/\(name).json")
        if resume, let data = try? Data(contentsOf: record), let done = try? JSONDecoder().decode(DemoSummary.Stage.self, from: data) {
            log("\n[\(name)] done by an earlier run, skipped")
            return summary.stages.append(done)
        }
        log("\n[\(name)] $ \(command)")
        let begun = Date()
        try body()
        fflush(nil)  // the stage's stdout lines before the next stage's stderr
        let done = DemoSummary.Stage(name: name, command: command, seconds: Date().timeIntervalSince(begun))
        try FileManager.default.createDirectory(at: record.deletingLastPathComponent(), withIntermediateDirectories: true)
        try JSONEncoder().encode(done).write(to: record)
        summary.stages.append(done)
    }

    /// `--resume` for a training stage an interrupted demo had begun: it continues from its last checkpoint.
    private func resuming(_ output: String) -> [String] {
        resume && FileManager.default.fileExists(atPath: path(output)) ? ["--resume"] : []
    }

    private func log(_ message: String) { FileHandle.standardError.write(Data((message + "\n").utf8)) }

    private mutating func writeData(_ data: AssistantData) throws {
        try Data(data.pretrainingText.utf8).write(to: URL(fileURLWithPath: path("data/pretrain.txt")))
        struct SFTLine: Encodable { let prompt: String, completion: String }
        try JSONLines.write(data.demonstrations.map { SFTLine(prompt: $0.prompt, completion: $0.completion) },
                            to: URL(fileURLWithPath: path("data/demonstrations.jsonl")))
        struct PromptLine: Encodable { let id: String, prompt: String }
        for (name, prompts) in [("labeling", data.labelingPrompts), ("ppo", data.ppoPrompts), ("eval", data.evalPrompts)] {
            try JSONLines.write(prompts.enumerated().map { PromptLine(id: "\(name)-\($0.offset)", prompt: $0.element.modelPrompt) },
                                to: URL(fileURLWithPath: path("data/\(name)_prompts.jsonl")))
        }
        summary.demonstrations = data.demonstrations.count
        summary.demonstrationMistakeRate = Double(data.demonstrations.filter {
            Rubric.grade(prompt: $0.prompt, reply: $0.completion).score < 100
        }.count) / Double(data.demonstrations.count)
    }

    /// Step 2's humans: the completions go into a feedback project, three simulated labelers rank them through the
    /// store, and the consensus pairs (without labelers found unreliable) are exported.
    private mutating func label() throws {
        let database = path("feedback/feedback.sqlite")
        let store = try FeedbackStore(path: database)
        let project: Int64 = 1
        try stage("project", command: "(POST /api/projects on `rlhf serve`)") {
            let created = try runAsync {
                try await store.createProject(ProjectSettings(
                    name: "rlhf demo", guidelines: "Rank the assistant's replies: correct, helpful and polite first.",
                    criterion: "overall quality", labelersPerItem: 3))
            }
            guard created == project else { throw ValidationError("\(database) already holds other projects") }
        }
        try stage("import", FeedbackImportCommand.self, "feedback import",
                  ["--db", database, "--project", "\(project)", "--file", path("feedback/completions.jsonl")])
        let (seed, panel) = (seed, SimulatedLabeler.demoPanel(flagsNonsense: scale.labelersFlagNonsense))
        try stage("label", command: "(three simulated labelers, one unreliable, rank every item through the feedback store)") {
            _ = try runAsync { try await store.label(project: project, with: panel, seed: seed) }
        }
        let analysis = try runAsync { ProjectAnalysis(snapshot: try await store.snapshot(project: project)) }
        let stats = ProjectStats(analysis)
        (summary.labelingItems, summary.judgments, summary.agreement) = (stats.progress.items, stats.progress.submissions, stats.agreement)
        summary.agreementWithoutUnreliable = ProjectStats(analysis.excludingUnreliable()).agreement
        summary.labelers = stats.labelers.map { quality in
            DemoSummary.Labeler(name: quality.name, reliableBySimulation: panel.first { $0.name == quality.name }?.reliable ?? true,
                                judgments: quality.submissions, tau: quality.tau, flaggedUnreliable: quality.unreliable)
        }
        try stage("stats", FeedbackStatsCommand.self, "feedback stats", ["--db", database, "--project", "\(project)"])
        try stage("export", FeedbackExportCommand.self, "feedback export",
                  ["--db", database, "--project", "\(project)", "--format", "pairs", "--exclude-unreliable",
                   "--out", path("feedback/pairs.jsonl")])
        summary.preferencePairs = try JSONLines.records(URL(fileURLWithPath: path("feedback/pairs.jsonl"))).count
    }

    private mutating func evaluate(prompts: [String]) throws {
        log("\n[eval] SFT, PPO policy and the β = 0 ablation answer \(prompts.count) prompts × \(scale.evalSamplesPerPrompt)"
            + " (equivalent: rlhf eval --model \(path("policy")) --baseline \(path("sft")) --reward \(path("reward"))"
            + " --prompts \(path("data/eval_prompts.jsonl")) --temperature 1 --samples \(scale.evalSamplesPerPrompt))")
        let begun = Date()
        let evaluation = RubricEvaluation(
            prompts: prompts, tokenizer: try Tokenizer(directory: URL(fileURLWithPath: path("sft"))),
            rewardModel: try ModelDirectory.loadRewardModel(URL(fileURLWithPath: path("reward"))), maxNewTokens: 24,
            samplesPerPrompt: scale.evalSamplesPerPrompt, seed: seed)
        let directory = out
        let load = { (name: String) in try ModelDirectory.load(directory.appendingPathComponent(name)) }
        (summary.results, summary.samples) = try evaluation.run(
            sft: try load("sft"), tuned: [("policy", try load("policy")), ("ablation-kl0", try load("ablation-kl0"))], sampleCount: 12)
        summary.stages.append(.init(name: "eval", command: "rlhf eval … --temperature 1 --samples \(scale.evalSamplesPerPrompt)",
                                    seconds: Date().timeIntervalSince(begun)))
    }

    private func finish() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try encoder.encode(summary).write(to: URL(fileURLWithPath: path("summary.json")))
        try Data(DemoReport.html(summary).utf8).write(to: URL(fileURLWithPath: path("report.html")))
        print("\n" + DemoReport.table(summary))
        print(String(format: "wrote %@ and %@ in %.0f s", path("summary.json"), path("report.html"), Date().timeIntervalSince(started)))
    }

    static func metrics(_ file: String) throws -> [[String: Double]] {
        try JSONLines.records(URL(fileURLWithPath: file)).map { record in record.object.compactMapValues { ($0 as? NSNumber)?.doubleValue } }
    }

    static func curve(_ file: String) throws -> [DemoSummary.CurvePoint] {
        try metrics(file).map { line in
            DemoSummary.CurvePoint(iteration: Int(line["step"] ?? 0), score: line["objective/scores"] ?? .nan,
                                   kl: line["objective/kl"] ?? .nan, rlhfReward: line["objective/rlhf_reward"] ?? .nan)
        }
    }
}

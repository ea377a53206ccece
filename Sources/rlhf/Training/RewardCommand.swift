import Alignment
import ArgumentParser
import Data
import Foundation
import Models
import Tensor
import Tokenizer

struct RewardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reward", abstract: "Reward models (step 2 of RLHF): train and score.",
        subcommands: [RewardTrainCommand.self, RewardScoreCommand.self])
}

enum RewardObjective: String, ExpressibleByArgument, CaseIterable { case pairwise, classifier }

struct RewardTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a reward model on preference pairs (or a classifier on labelled completions).",
        discussion: """
            pairwise (default): JSONL {"prompt", "chosen", "rejected", "margin"?} or HH-RLHF {"chosen", "rejected"} \
            transcripts; loss −log σ(r_chosen − r_rejected − margin); --batch-size counts groups: a run of \
            consecutive lines with the same prompt (one labeled item's pairs), each scored with all its pairs. classifier: JSONL {"prompt", "completion", "label": true|false}; binary cross-entropy, the reward \
            is the positive-class logit. The backbone comes from --model (typically the SFT model, or an existing \
            *ForSequenceClassification checkpoint); the head reads the last token. After pairwise training the head is \
            rescaled so training rewards have mean 0 and standard deviation 1. With --lora-rank the backbone is \
            frozen, adapters and the head train, and the adapters are merged into the saved model. Saved as a \
            transformers *ForSequenceClassification directory.
            """)

    @OptionGroup var model: ModelOptions

    @Option(help: "Training data (JSONL).", transform: { URL(fileURLWithPath: $0) })
    var data: URL

    @Option(help: "Output directory.", transform: { URL(fileURLWithPath: $0) })
    var out: URL

    @Option(help: "pairwise or classifier.")
    var objective: RewardObjective = .pairwise

    @Option(help: "Truncate prompt + completion to this many tokens.")
    var maxLength = 512

    @Option(help: "Fraction of groups (prompts with their pairs) held out for evaluation (accuracy).")
    var evalSplit = 0.1

    @OptionGroup var training: TrainingFlags

    @OptionGroup var lora: LoRAFlags

    func validate() throws {
        guard maxLength > 1, evalSplit >= 0, evalSplit < 1 else {
            throw ValidationError("--max-length must be at least 2 and --eval-split in [0, 1)")
        }
    }

    func run() throws {
        try training.checkOutput(out)
        let tokenizer = try model.loadTokenizer()
        let groups: [RewardGroup]
        switch objective {
        case .pairwise: groups = try RewardGroup.groups(try PreferencePair.load(data), tokenizer: tokenizer, maxLength: maxLength)
        case .classifier: groups = try RewardGroup.groups(try LabeledCompletion.load(data), tokenizer: tokenizer, maxLength: maxLength)
        }
        let config = training.config(defaultLearningRate: 1e-5)
        let rewardModel = try ModelDirectory.loadRewardModel(model.model, seed: config.seed)
        rewardModel.padTokenID = tokenizer.padTokenID
        let (train, eval) = heldOut(groups, fraction: evalSplit, seed: config.seed)
        let reporter = TrainingReporter()
        reporter.log("reward (\(objective.rawValue)): \(train.count) training / \(eval.count) held-out groups, "
                     + "\(train.reduce(0) { $0 + $1.comparisons.count }) training comparisons")
        let adapters = try lora.attach(to: rewardModel.backbone, baseModel: model.model, seed: config.seed)
        let trainer = RewardTrainer(model: rewardModel, train: train, eval: eval, padID: tokenizer.padTokenID ?? tokenizer.eosTokenID ?? 0,
                                    config: config, tokenizerDirectory: model.model, adapters: adapters)
        let totalSteps = config.totalSteps(exampleCount: train.count)
        try TrainingLoop(task: trainer, config: config, output: out, totalSteps: totalSteps).run(resume: training.resume,
                                                                                                onEvent: reporter.handle)
        try trainer.mergeAdapters()
        if objective == .pairwise { try withNoGrad { try trainer.normalizeRewards() } }
        try ModelDirectory.save(rewardModel, to: out, padTokenID: rewardModel.padTokenID)
        try ModelDirectory.copyTokenizerFiles(from: model.model, to: out)
        try TrainerState(step: totalSteps, totalSteps: totalSteps, batchesSeen: totalSteps * config.gradAccum, config: config,
                         trainer: trainer.name).write(to: out)
        reporter.log("saved \(out.path)")
    }
}

struct RewardScoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Rewards for {\"prompt\", \"completion\"} lines, or for pair lines (with accuracy).")

    @OptionGroup var model: ModelOptions

    @Option(help: "JSONL of {\"prompt\", \"completion\"} or {\"prompt\", \"chosen\", \"rejected\"}.", transform: { URL(fileURLWithPath: $0) })
    var data: URL

    @Option(help: "Truncate prompt + completion to this many tokens.")
    var maxLength = 512

    @Flag(help: "Print one JSON object ({\"rewards\"} or {\"chosen\", \"rejected\", \"accuracy\"}).")
    var json = false

    func run() throws {
        let tokenizer = try model.loadTokenizer()
        let rewardModel = try ModelDirectory.loadRewardModel(model.model)
        let records = try JSONLines.records(data)
        let isPairs = records.first?.object["chosen"] != nil
        let score = { (prompt: String, completions: [String]) throws -> [Float] in
            try rewardModel.rewards(of: try completions.map { try RewardGroup.sequence(prompt, $0, tokenizer: tokenizer, maxLength: maxLength) },
                                    padID: tokenizer.padTokenID ?? 0)
        }
        if isPairs {
            let pairs = try PreferencePair.load(data)
            let scored = try pairs.map { try score($0.prompt, [$0.chosen, $0.rejected]) }
            let accuracy = Double(scored.filter { $0[0] > $0[1] }.count) / Double(scored.count)
            if json {
                struct Output: Encodable { let chosen: [Float], rejected: [Float], accuracy: Double }
                try printJSON(Output(chosen: scored.map { $0[0] }, rejected: scored.map { $0[1] }, accuracy: accuracy))
            } else {
                for s in scored { print(String(format: "%.4f\t%.4f", s[0], s[1])) }
                print(String(format: "accuracy %.4f over %d pairs", accuracy, scored.count))
            }
        } else {
            let rewards = try records.map { record in try score(try record.string("prompt", allowEmpty: true), [try record.string("completion")])[0] }
            if json {
                struct Output: Encodable { let rewards: [Float] }
                try printJSON(Output(rewards: rewards))
            } else {
                for reward in rewards { print(String(format: "%.4f", reward)) }
            }
        }
    }
}

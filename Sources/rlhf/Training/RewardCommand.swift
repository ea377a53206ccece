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

extension RewardConfig.Objective: ExpressibleByArgument {}

struct RewardTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a reward model on preference pairs (or a classifier on labelled completions).",
        discussion: """
            pairwise (default): JSONL {"prompt", "chosen", "rejected", "margin"?} or HH-RLHF {"chosen", "rejected"} \
            transcripts; loss −log σ(r_chosen − r_rejected − margin); --batch-size counts groups: a run of \
            consecutive lines with the same prompt (one labeled item's pairs), each scored with all its pairs. \
            classifier: JSONL {"prompt", "completion", "label": true|false}; binary cross-entropy, the reward \
            is the positive-class logit. --model is a causal LM (typically the SFT model) or its \
            *ForSequenceClassification checkpoint, whose head reads the last token of prompt + completion + EOS; or an \
            encoder (BERT, RoBERTa, XLM-R, DeBERTa-v2): its *ForSequenceClassification checkpoint, or a bare encoder \
            (BertModel, RobertaModel, a masked LM, ...) that gets a new 1-label head, reading the first token of \
            prompt + completion tokenized as one text with the tokenizer's special tokens. The reward is the logit of \
            a 1-label head, label 1 of a 2-label one. After pairwise training the head is rescaled so training rewards \
            have mean 0 and standard deviation 1 (the offset is config.json's rlhf_reward_offset). With --lora-rank \
            the backbone or encoder is frozen, adapters (PEFT's default targets: c_attn for GPT-2, q_proj,v_proj for \
            Llama, query,value for BERT and RoBERTa, query_proj,value_proj for DeBERTa-v2) and the head's classifier \
            or score layers train, and the adapters are merged into the saved model. Saved as a transformers *ForSequenceClassification directory. The library call is RewardConfig.run.
            """)

    @Option(help: "Model directory or Hub id: a causal LM or encoder, or a classifier or reward model to train further.") var model: String?
    @Option(help: "Output directory.") var out: String?
    @Option(help: help("pairwise or classifier.", default: RewardConfig().objective)) var objective: RewardConfig.Objective?
    @OptionGroup var dataset: DatasetFlags<RewardConfig>
    @OptionGroup var training: TrainingFlags<RewardConfig>
    @OptionGroup var lora: LoRAFlags
    @OptionGroup var logging: LoggingFlags
    @OptionGroup var job: RunFlags

    func run() throws {
        let config: RewardConfig = try job.configuration { config in
            set(&config.model, model)
            set(&config.out, out)
            set(&config.objective, objective)
            dataset.apply(to: &config.dataset)
            training.apply(to: &config.training)
            lora.apply(to: &config.lora)
            logging.apply(to: &config.logging)
        }
        try job.execute(config) { try $0.run($1) }
    }
}

struct RewardScoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Rewards for {\"prompt\", \"completion\"} lines, or for pair lines (with accuracy).")

    @OptionGroup var model: ModelOptions

    @Option(help: "JSONL of {\"prompt\", \"completion\"} or {\"prompt\", \"chosen\", \"rejected\"}.", transform: { URL(fileURLWithPath: $0) })
    var data: URL

    @Option(help: "Truncate prompt + completion to this many tokens (at most the model's positions).")
    var maxLength = 512

    @Flag(help: "Print one JSON object ({\"rewards\"} or {\"chosen\", \"rejected\", \"accuracy\"}).")
    var json = false

    func run() throws {
        let directory = try model.directory()
        let tokenizer = try Tokenizer(directory: directory)
        let rewardModel = try ModelDirectory.loadRewardClassifier(directory)
        let input = RewardLayout.of(rewardModel)
        let maxLength = min(maxLength, rewardModel.maxTokens ?? .max)
        let records = try JSONLines.records(data)
        let isPairs = records.first?.object["chosen"] != nil
        let score = { (prompt: String, completions: [String]) throws -> [Float] in
            try rewardModel.rewards(of: try completions.map { try RewardGroup.sequence(prompt, $0, tokenizer: tokenizer, maxLength: maxLength, input: input) },
                                    padID: tokenizer.paddingID)
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

import Data
import Foundation
import Models
import NN
import Tensor
import Tokenizer

/// A reward model (step 2 of RLHF), as `rlhf reward train` trains it.
public struct RewardConfig: DatasetRunConfiguration {
    public static let command = "reward train"
    public static var resumeInsensitiveKeys: Set<String> { TrainingConfig.resumeInsensitiveKeys }

    public enum Objective: String, Codable, Sendable, CaseIterable {
        /// −log σ(r_chosen − r_rejected − margin) on preference pairs.
        case pairwise
        /// Binary cross-entropy on labelled completions; the reward is the positive-class logit.
        case classifier
    }

    /// The backbone (typically the SFT model), an existing *ForSequenceClassification checkpoint, or an encoder
    /// (BERT, RoBERTa, XLM-R, DeBERTa-v2; a bare one gets a new 1-label head).
    public var model = ""
    public var out = ""
    public var objective = Objective.pairwise
    /// Pairs {"prompt", "chosen", "rejected", "margin"?} or HH-RLHF transcripts (pairwise); {"prompt",
    /// "completion", "label"} (classifier). `evalSplit` holds out groups (a prompt with its pairs); prompt +
    /// completion are cut to `maxLength` tokens.
    public var dataset = DatasetConfig(evalSplit: 0.1, maxLength: 512)
    /// Counts groups: a run of consecutive lines with one prompt (one labeled item's pairs), scored together.
    public var training = TrainingConfig(learningRate: 1e-5)
    public var lora = LoRAConfig()
    public var logging = LoggingConfig()

    public init() {}

    public var inputs: [String] { [model] }

    public func validate() throws { try validateDatasetRun() }

    /// Trains the reward model and writes it to `out` as a transformers *ForSequenceClassification directory; after
    /// pairwise training the head is rescaled so training rewards have mean 0 and standard deviation 1. With LoRA
    /// the adapters are merged into the saved model. `model` is a decoder (its head, or a new one, on the last
    /// token) or an encoder (BERT, RoBERTa, XLM-R, DeBERTa-v2: its classifier, or a new 1-label head, on the first).
    public func run(_ control: RunControl = .init()) throws -> RunResult {
        let session = try RunSession(self, control)
        let modelDirectory = try ModelDirectory.locate(model)
        let tokenizer = try Tokenizer(directory: modelDirectory)
        let rewardModel = try ModelDirectory.rewardClassifierToTrain(modelDirectory, seed: training.seed)
        if let decoder = rewardModel as? RewardModel { decoder.padTokenID = tokenizer.padTokenID }
        let input = RewardLayout.of(rewardModel)
        let maxLength = dataset.length(positions: rewardModel.maxTokens, log: session.log)
        let (train, eval) = try dataset.split(seed: training.seed) { file -> [RewardGroup] in
            let url = URL(fileURLWithPath: file)
            switch objective {
            case .pairwise: return try RewardGroup.groups(try PreferencePair.load(url), tokenizer: tokenizer, maxLength: maxLength, input: input)
            case .classifier: return try RewardGroup.groups(try LabeledCompletion.load(url), tokenizer: tokenizer, maxLength: maxLength, input: input)
            }
        }
        session.log("reward (\(objective.rawValue)): \(train.count) training / \(eval.count) held-out groups, "
                    + "\(train.reduce(0) { $0 + $1.comparisons.count }) training comparisons")
        let adapters = try lora.attach(to: rewardModel, baseModel: model, seed: training.seed)
        let trainer = RewardTrainer(model: rewardModel, train: train, eval: eval, padID: tokenizer.paddingID, config: training,
                                    tokenizerDirectory: modelDirectory, adapters: adapters)
        return try session.train(gradientDescent: trainer, training: training, examples: train.count) { out in
            try trainer.mergeAdapters()
            if objective == .pairwise { try withNoGrad { try trainer.normalizeRewards() } }
            try rewardModel.save(to: out)
            try ModelDirectory.copyTokenizerFiles(from: modelDirectory, to: out)
        }
    }
}

extension LoRAConfig {
    /// Freezes the reward model's backbone (a decoder's) or encoder and attaches adapters to it; nil when `rank` is 0.
    func attach(to model: any RewardClassifier, baseModel: String, seed: UInt64) throws -> LoRAAdapters? {
        guard rank > 0 else { return nil }
        let adapters = try PEFTAdapter.attach(to: model.adaptableBase, defaultTargets: model.defaultLoRATargets, rank: rank, alpha: alpha,
                                              dropout: dropout, targets: targets.isEmpty ? nil : targets, seed: seed)
        (adapters.baseModel, adapters.taskType) = (baseModel, "SEQ_CLS")
        return adapters
    }
}

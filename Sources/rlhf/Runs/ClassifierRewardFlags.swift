import Alignment
import ArgumentParser

/// `--reward-classifier DIR --reward-label NAME [--reward-transform logit|prob]`: a classifier's label as the reward.
struct ClassifierRewardFlags: ParsableArguments {
    @Option(help: "A sequence classifier (BERT, RoBERTa, DeBERTa-v2 or a reward model; directory or Hub id) whose --reward-label scores responses.")
    var rewardClassifier: String?

    @Option(help: "The classifier's label whose score is the reward (id2label name or index).")
    var rewardLabel: String?

    @Option(help: help("logit or prob: the label's logit or its probability.", default: PPOConfig().rewardTransform))
    var rewardTransform: ClassifierRewardTransform?
}

extension ClassifierRewardTransform: ExpressibleByArgument {}

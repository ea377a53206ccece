import Alignment
import Data
import Foundation
import Models

/// A chat server that learns each user's preferences: what `rlhf serve --model` runs beside the labeling app.
/// Keys are the flags' names (`update_every` is `--update-every`).
public struct PersonalizationConfig: Codable, Sendable, Equatable {
    /// The base model every user starts from (a directory or a Hub id); its weights are held once.
    public var model = ""
    /// Where each user's adapter versions are kept (`user-<id>/v<n>/`, PEFT's layout); created when missing.
    public var adapters = ""
    /// Train a user's adapter after this many new feedback events of theirs.
    public var updateEvery = 20
    /// A Jinja chat template replacing the tokenizer's (for a model fine-tuned on another format).
    public var chatTemplate: String? = nil
    /// The adapters every user gets (`lora_rank` is `--lora-rank`).
    public var lora: LoRAConfig
    /// Each update trains a fresh adapter on all of the user's feedback for `epochs` passes over the largest
    /// of their pairs, thumbs and corrections.
    public var training: TrainingConfig
    /// β of DPO on the user's choices and of KTO on their thumbs: how far the adapter may move from the base.
    public var beta: Float = 0.3
    /// Weight of the NLL of the chosen replies beside DPO (RPO): without it DPO can lower both replies' likelihood
    /// and drift to text the user never saw.
    public var rpoAlpha: Float = 1
    /// Weight of the SFT loss on the user's corrections beside DPO and KTO.
    public var correctionWeight: Float = 1
    /// Preference pairs of the base model's own (JSONL, as `rlhf dpo` reads them) replayed in every update, so that
    /// a user's adapter keeps what everyone agreed on.
    public var replay: String? = nil
    /// Replayed pairs per pair of the user's.
    public var replayRatio = 0.5
    /// The share of the time the background training may run (it sleeps between steps), so replies stay fast.
    public var workerCPUShare = 0.5
    /// New tokens of a reply when a request does not say.
    public var maxNewTokens = 64
    /// The most new tokens a request may ask for.
    public var maxNewTokensLimit = 512
    /// Sampling temperature when a request does not say (0: greedy).
    public var temperature: Float = 1
    /// Rows (replies) decoded together in one batch across users.
    public var maxBatchRows = 32
    /// Users' adapters kept loaded in memory (least recently used go first).
    public var loadedAdapters = 64
    /// Chat requests waiting for the model past which new ones are refused (503) rather than queued.
    public var queueLimit = 256
    /// Seeds sampling and every adapter's initialisation (`training.seed` the order of each update's examples).
    public var seed: UInt64 = 42

    enum CodingKeys: String, CodingKey {
        case model, adapters, updateEvery, chatTemplate, lora, training, beta, rpoAlpha, correctionWeight, replay, replayRatio,
             workerCPUShare = "workerCpuShare", maxNewTokens, maxNewTokensLimit, temperature, maxBatchRows, loadedAdapters,
             queueLimit, seed
    }

    public init() {
        // A user gives a few hundred comparisons at most: every linear layer adapts, and each update takes large steps.
        lora = LoRAConfig()
        (lora.rank, lora.alpha, lora.dropout, lora.targets) = (8, 16, 0, [PEFTAdapter.allLinear])
        training = TrainingConfig(learningRate: 1e-3)
        (training.epochs, training.batchSize, training.schedule) = (3, 8, .constant)
    }

    public func validate() throws {
        try Check.required(model, "model")
        try Check.required(adapters, "adapters")
        try Check.positive(updateEvery, "update_every")
        if lora.rank == 0 { throw JobError("lora_rank must be positive: every user's model is an adapter") }
        try lora.validate()
        try training.validate()
        try Check.positive(beta, "beta")
        try Check.nonNegative(rpoAlpha, "rpo_alpha")
        try Check.nonNegative(correctionWeight, "correction_weight")
        try Check.nonNegative(replayRatio, "replay_ratio")
        if !(workerCPUShare > 0 && workerCPUShare <= 1) { throw JobError("worker_cpu_share must be in (0, 1] (got \(workerCPUShare))") }
        for (value, key) in [(maxNewTokens, "max_new_tokens"), (maxNewTokensLimit, "max_new_tokens_limit"), (maxBatchRows, "max_batch_rows"),
                             (loadedAdapters, "loaded_adapters"), (queueLimit, "queue_limit")] {
            try Check.positive(value, key)
        }
        if maxNewTokens > maxNewTokensLimit { throw JobError("max_new_tokens must not exceed max_new_tokens_limit") }
        try Check.nonNegative(temperature, "temperature")
    }
}

import Alignment
import ArgumentParser
import Data
import Foundation
import Models
import Tensor
import Tokenizer

extension KLEstimator: ExpressibleByArgument {}

struct PPOCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ppo",
        abstract: "Optimise the policy against the reward model with PPO (step 3 of RLHF).",
        discussion: """
            Each iteration takes the next --batch-size prompts, samples responses, scores them with --reward, adds a \
            per-token KL penalty against the frozen starting policy, estimates advantages with the critic (initialised \
            from the reward model, as TRL does) and runs --ppo-epochs epochs of clipped updates. Writes the policy (a \
            Hugging Face directory) to --out, the critic to --out/critic, metrics.jsonl (TRL's metric names), \
            samples.jsonl and checkpoint-N/ every --save-every iterations (--resume continues from the newest).
            """)

    @Option(help: "Starting policy (typically the SFT model).", transform: { URL(fileURLWithPath: $0) })
    var policy: URL

    @Option(help: "Start from this LoRA adapter of --policy (e.g. `rlhf sft --lora-rank`'s output) and train it further; the reference is --policy with a frozen copy of it.",
            transform: { URL(fileURLWithPath: $0) })
    var adapter: URL?

    @Option(help: "Reward model directory.", transform: { URL(fileURLWithPath: $0) })
    var reward: URL

    @Option(help: "Prompts (JSONL {\"prompt\"}).", transform: { URL(fileURLWithPath: $0) })
    var prompts: URL

    @Option(help: "Output directory.", transform: { URL(fileURLWithPath: $0) })
    var out: URL

    @Option(help: "PPO iterations.") var iterations = 100
    @Option(help: "Prompts per iteration.") var batchSize = 16
    @Option(help: "Minibatches per PPO epoch.") var miniBatches = 1
    @Option(help: "Epochs over each rollout.") var ppoEpochs = 4
    @Option(help: "Learning rate (policy and critic).") var lr: Float = 3e-6
    @Option(help: "Global gradient-norm clip (0 = off).") var maxGradNorm: Float = 1
    @Option(help: "Longest response.") var maxNewTokens = 53
    @Option(help: "Sampling temperature (logits are divided by it when scoring too).") var temperature: Float = 0.7
    @Option(help: "KL coefficient β (initial value when --kl-target is set).") var klCoef: Float = 0.05
    @Option(help: "KL estimator: k1 or k3.") var klEstimator: KLEstimator = .k1
    @Option(help: "Target KL for the adaptive controller (default: fixed β).") var klTarget: Float?
    @Option(help: "Horizon of the adaptive KL controller.") var klHorizon: Float = 10_000
    @Option(help: "Discount γ.") var gamma: Float = 1
    @Option(help: "GAE λ.") var lambda: Float = 0.95
    @Option(help: "Policy clip range ε.") var cliprange: Float = 0.2
    @Option(help: "Value clip range.") var cliprangeValue: Float = 0.2
    @Option(help: "Value loss coefficient c1.") var vfCoef: Float = 0.1
    @Option(help: "Entropy bonus weight c2 (loss −= c2 · mean entropy of the policy; 0 = none, as TRL).") var entCoef: Float = 0
    @Option(help: "Score penalty for responses that never reach EOS.") var missingEosPenalty: Float?
    @Flag(help: "Whiten the per-token rewards.") var whitenRewards = false
    @Flag(help: "Wrap prompts as user messages in the chat template.") var chat = false
    @Option(help: "Random seed.") var seed: UInt64 = 42
    @Option(help: "Checkpoint every N iterations (0 = only the final model).") var saveEvery = 0
    @Option(help: "Stop once the mean score reaches this.") var targetReward: Double?
    @Option(help: "Stop once the mean per-sequence KL to the reference exceeds this.") var klBudget: Double?
    @Flag(help: "Continue from the newest checkpoint in --out.") var resume = false

    @OptionGroup var lora: LoRAFlags

    func validate() throws {
        guard iterations > 0, batchSize > 0, miniBatches > 0, miniBatches <= batchSize, ppoEpochs > 0, maxNewTokens > 0 else {
            throw ValidationError("--iterations, --batch-size, --ppo-epochs, --max-new-tokens must be positive; --mini-batches in 1...batch-size")
        }
        guard adapter == nil || lora.loraRank == 0 else { throw ValidationError("--adapter brings its own rank: leave out --lora-rank") }
        guard lr > 0, temperature > 0, klCoef >= 0, entCoef >= 0 else {
            throw ValidationError("--lr and --temperature must be positive, --kl-coef and --ent-coef ≥ 0")
        }
    }

    func run() throws {
        let records = try PromptRecord.load(prompts)
        let tokenizer = try Tokenizer(directory: policy)
        let queries = try records.map { try tokenizer.encodePrompt($0.prompt, chat: chat) }
        let rewardModel = try ModelDirectory.loadRewardModel(reward)
        rewardModel.setTrainable(false)
        // A reward model with another tokenizer reads the responses as text, encoded its own way.
        let sameTokenizer = FileManager.default.contentsEqual(atPath: policy.appendingPathComponent("tokenizer.json").path,
                                                              andPath: reward.appendingPathComponent("tokenizer.json").path)
        let scorer: any ResponseScorer = sameTokenizer ? rewardModel
            : RetokenizingScorer(scorer: rewardModel, source: tokenizer, target: try Tokenizer(directory: reward))
        var options = PPOTrainer.Options()
        (options.maxNewTokens, options.temperature, options.ppoEpochs, options.miniBatches) = (maxNewTokens, temperature, ppoEpochs, miniBatches)
        (options.learningRate, options.maxGradNorm, options.seed) = (lr, maxGradNorm, seed)
        var hyper = PPOHyperparameters()
        (hyper.klCoefficient, hyper.klEstimator, hyper.klTarget, hyper.klHorizon) = (klCoef, klEstimator, klTarget, klHorizon)
        (hyper.gamma, hyper.lambda, hyper.clipRange, hyper.clipRangeValue) = (gamma, lambda, cliprange, cliprangeValue)
        (hyper.valueCoefficient, hyper.entropyCoefficient) = (vfCoef, entCoef)
        (hyper.missingEOSPenalty, hyper.whitenRewards) = (missingEosPenalty, whitenRewards)
        options.hyperparameters = hyper
        // LoRA mode holds one base model: the policy is base + adapters, the reference the base alone (or with
        // the frozen starting --adapter).
        let policyModel = try ModelDirectory.load(policy)
        let adapters = try adapter.map { try PEFTAdapter.load(from: $0, onto: policyModel) }
            ?? lora.attach(to: policyModel, baseModel: policy, seed: seed)
        let trainer = try PPOTrainer(policy: policyModel, reference: adapters == nil ? try ModelDirectory.load(policy) : nil,
                                     adapters: adapters, critic: try ModelDirectory.loadRewardModel(reward), scorer: scorer,
                                     options: options, stopTokenIDs: tokenizer.eosTokenIDs,
                                     padID: tokenizer.padTokenID ?? tokenizer.eosTokenID ?? 0)
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let metrics = MetricsLog(directory: out), samples = out.appendingPathComponent("samples.jsonl")
        let store = CheckpointStore(output: out)
        store.removeIncomplete()
        let reporter = TrainingReporter()
        if resume, let checkpoint = store.latest(marker: "ppo_state.json") {
            try trainer.restore(from: checkpoint)
            try metrics.truncate(after: trainer.iteration)
            try JSONLines.truncate(samples, after: trainer.iteration, key: "iteration")
            reporter.log("resuming at iteration \(trainer.iteration) of \(iterations)")
        } else {
            try refuseToOverwriteRun(at: out, resume: resume)
            // A --resume with no checkpoint yet starts over: nothing an earlier attempt logged stays.
            for log in [metrics.url, samples] { try? FileManager.default.removeItem(at: log) }
        }
        while trainer.iteration < iterations {
            let start = (trainer.iteration * batchSize) % queries.count
            let indices = (0..<batchSize).map { (start + $0) % queries.count }
            var logged = try trainer.step(queries: indices.map { queries[$0] })
            logged["step"] = Double(trainer.iteration)
            try metrics.append(logged)
            _ = reporter.handle(.stepEnded(step: trainer.iteration, totalSteps: iterations,
                                           metrics: ["score": logged["objective/scores"] ?? 0, "learning_rate": Double(lr)]))
            try appendSample(iteration: trainer.iteration, prompt: records[indices[0]].prompt, queries: [queries[indices[0]]],
                             tokenizer: tokenizer, trainer: trainer, to: samples)
            if saveEvery > 0, trainer.iteration % saveEvery == 0, trainer.iteration < iterations {
                let directory = try store.saveAtomically(step: trainer.iteration) { temporary in
                    try trainer.save(to: temporary, policyFiles: { try self.savePolicy(trainer, to: $0) },
                                     criticFiles: { try ModelDirectory.save(trainer.critic, to: $0, padTokenID: trainer.critic.padTokenID) })
                }
                reporter.log("saved \(directory.path)")
            }
            if let targetReward, (logged["objective/scores"] ?? -.infinity) >= targetReward {
                reporter.log("mean score \(logged["objective/scores"]!) reached --target-reward \(targetReward)")
                break
            }
            if let klBudget, (logged["objective/kl"] ?? 0) > klBudget {
                reporter.log("KL \(logged["objective/kl"]!) exceeded --kl-budget \(klBudget)")
                break
            }
        }
        if let adapters {
            try PEFTAdapter.save(adapters, to: out.appendingPathComponent("adapter"))
            try adapters.merge()
        }
        try ModelDirectory.save(trainer.policy, to: out)
        try ModelDirectory.copyTokenizerFiles(from: policy, to: out)
        try ModelDirectory.save(trainer.critic, to: out.appendingPathComponent("critic"), padTokenID: trainer.critic.padTokenID)
        reporter.log("saved \(out.path)" + (adapters == nil ? "" : " (adapters merged; unmerged in adapter/)"))
        reporter.log(String(format: "peak memory %.0f MB", Double(peakResidentBytes()) / 1_048_576))
    }

    /// A checkpoint's policy: the adapters in LoRA mode (the base is --policy itself), else the whole model.
    private func savePolicy(_ trainer: PPOTrainer, to directory: URL) throws {
        if let adapters = trainer.adapters { return try PEFTAdapter.save(adapters, to: directory) }
        try ModelDirectory.save(trainer.policy, to: directory)
        try ModelDirectory.copyTokenizerFiles(from: policy, to: directory)
    }

    /// Logs one greedy completion per iteration so a person can watch the policy change.
    private func appendSample(iteration: Int, prompt: String, queries: [[Int]], tokenizer: Tokenizer, trainer: PPOTrainer,
                              to url: URL) throws {
        let response = try TextGenerator(model: trainer.policy).generate(queries, options: .init(
            maxNewTokens: maxNewTokens, sampling: .greedy, stopTokenIDs: tokenizer.eosTokenIDs))[0]
        let score = try trainer.scorer.scores(queries: queries, responses: [response])[0]
        struct Sample: Encodable { let iteration: Int, prompt: String, completion: String, score: Float }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]  // the same bytes in every run
        let line = try encoder.encode(Sample(iteration: iteration, prompt: prompt,
                                             completion: tokenizer.decode(response, skipSpecialTokens: true), score: score))
        try JSONLines.appendLine(line, to: url)
    }
}

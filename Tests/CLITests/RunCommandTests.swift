import Alignment
import Data
import Foundation
import XCTest

/// The training commands as thin maps onto the library's run configurations: their `--help` shows the library's
/// defaults, a generated command line parses back to its configuration, a configuration file and flags combine, a
/// resume with other settings is refused, and DPO and KTO run, log and resume from the command line.
final class RunCommandTests: XCTestCase {
    /// Every run command's configuration type (and the Constitutional AI jobs'), as a JSON tree of its defaults.
    private static let defaults: [(command: [String], tree: @Sendable () throws -> ConfigValue)] = [
        (["pretrain"], { try ConfigCoding.tree(PretrainConfig()) }), (["sft"], { try ConfigCoding.tree(SFTConfig()) }),
        (["reward", "train"], { try ConfigCoding.tree(RewardConfig()) }), (["ppo"], { try ConfigCoding.tree(PPOConfig()) }),
        (["dpo"], { try ConfigCoding.tree(DPOConfig()) }), (["kto"], { try ConfigCoding.tree(KTOConfig()) }),
        (["grpo"], { try ConfigCoding.tree(GRPOConfig()) }),
        (["constitution", "revise"], { try ConfigCoding.tree(ConstitutionReviseConfig()) }),
        (["constitution", "label"], { try ConfigCoding.tree(ConstitutionLabelConfig()) }),
        (["bench-align", "truthfulqa"], { try ConfigCoding.tree(TruthfulQAConfig()) }), (["bench-align", "bbq"], { try ConfigCoding.tree(BBQConfig()) }),
        (["bench-align", "rtp"], { try ConfigCoding.tree(RealToxicityPromptsConfig()) }),
    ]

    /// `--help` entries: each option's flag name (its long name, without `--no-`) and the default it shows.
    private func helpDefaults(_ command: [String]) throws -> [String: String] {
        let help = try runRLHF(command + ["--help"])
        XCTAssertEqual(help.status, 0, help.stderr)
        var entries: [String] = []
        for line in help.stdout.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("  --") || line.hasPrefix("  -") { entries.append(String(line)) } else if !entries.isEmpty, line.hasPrefix("    ") {
                entries[entries.count - 1] += " " + line.trimmingCharacters(in: .whitespaces)
            }
        }
        var defaults: [String: String] = [:]
        for entry in entries {
            guard let name = entry.firstMatch(of: /--([a-z0-9-]+)/)?.output.1, let shown = entry.firstMatch(of: /\(default: ([^)]*)\)/)?.output.1 else {
                continue
            }
            defaults[String(name)] = String(shown)
        }
        return defaults
    }

    /// The issue's check, for every run command: every setting with a library default has its flag, and `--help` shows
    /// that default.
    func testHelpShowsTheLibraryDefaults() throws {
        for (command, tree) in Self.defaults {
            let shown = try helpDefaults(command)
            let leaves = try tree().leaves
            for (key, value) in leaves {
                switch value {
                case .null, .string(""), .array([]): continue  // required paths and unset options show no default
                default: break
                }
                let flag = key.replacingOccurrences(of: "_", with: "-")
                XCTAssertEqual(shown[flag], value.description, "rlhf \(command.joined(separator: " ")) --help: --\(flag)")
            }
        }
    }

    /// `rlhf ppo --help` in particular: the drift the issue found (temperature 0.7 vs 1, 53 vs 32 tokens, seed 42 vs 0).
    func testPPOHelpDefaultsAreTRLsAndTheLibrarys() throws {
        let shown = try helpDefaults(["ppo"])
        let library = PPOConfig()
        XCTAssertEqual(shown["temperature"], "\(library.temperature)")
        XCTAssertEqual(shown["max-new-tokens"], "\(library.maxNewTokens)")
        XCTAssertEqual(shown["seed"], "\(library.seed)")
        XCTAssertEqual(shown["lr"], "\(library.learningRate)")
    }

    /// A configuration with non-default settings, turned into a command line by the library, parses back into the
    /// same configuration (`--print-config`): the commands the demo prints do what the demo did.
    func testGeneratedCommandLinesParseBackToTheirConfiguration() throws {
        var sft = SFTConfig()
        (sft.model, sft.dataset.data, sft.out, sft.dataset.evalData, sft.dataset.maxLength, sft.dataset.evalSplit, sft.packing) = ("m", "d", "o", "e", 77, 0.25, true)
        sft.training = changed(sft.training)
        (sft.lora.rank, sft.lora.alpha, sft.lora.dropout, sft.lora.targets) = (4, 8, 0.1, ["q_proj", "v_proj"])
        (sft.logging.tensorboard, sft.logging.loggingDir) = (false, "tb")
        var pretrain = PretrainConfig()
        (pretrain.data, pretrain.out, pretrain.preset, pretrain.tokenizer, pretrain.vocabSize, pretrain.evalSplit) = ("d", "o", .small, "t", 999, 0.125)
        pretrain.training = changed(pretrain.training)
        var reward = RewardConfig()
        (reward.model, reward.dataset.data, reward.out, reward.objective, reward.dataset.maxLength, reward.dataset.evalSplit) = ("m", "d", "o", .classifier, 33, 0.5)
        reward.training = changed(reward.training)
        var ppo = PPOConfig()
        (ppo.policy, ppo.adapter, ppo.reward, ppo.prompts, ppo.out, ppo.chat) = ("p", "a", "r", "q", "o", true)
        (ppo.iterations, ppo.batchSize, ppo.miniBatches, ppo.ppoEpochs, ppo.learningRate, ppo.maxGradNorm) = (7, 6, 2, 3, 1.5e-4, 0.5)
        (ppo.maxNewTokens, ppo.temperature, ppo.seed, ppo.saveEvery, ppo.targetReward, ppo.klBudget) = (9, 1.25, 12_345_678_901_234, 3, 0.75, 2.5)
        (ppo.ppo.klCoefficient, ppo.ppo.klEstimator, ppo.ppo.klTarget, ppo.ppo.klHorizon, ppo.ppo.gamma, ppo.ppo.lambda) = (0.3, .k3, 0.02, 500, 0.99, 0.9)
        (ppo.ppo.clipRange, ppo.ppo.clipRangeValue, ppo.ppo.valueCoefficient, ppo.ppo.entropyCoefficient) = (0.1, 0.3, 0.5, 0.01)
        (ppo.ppo.missingEOSPenalty, ppo.ppo.whitenRewards) = (1.5, true)
        var dpo = DPOConfig()
        (dpo.model, dpo.adapter, dpo.dataset.data, dpo.out, dpo.dataset.evalData, dpo.dataset.evalSplit, dpo.dataset.maxLength) = ("m", "a", "d", "o", "e", 0.2, 64)
        (dpo.loss, dpo.beta, dpo.labelSmoothing, dpo.rpoAlpha, dpo.precomputeRef) = (.robust, 0.25, 0.1, 0.5, false)
        dpo.training = changed(dpo.training)
        var kto = KTOConfig()
        (kto.model, kto.dataset.data, kto.out, kto.beta, kto.desirableWeight, kto.undesirableWeight, kto.precomputeRef) = ("m", "d", "o", 0.3, 1.33, 0.75, false)
        kto.training = changed(kto.training)
        var grpo = GRPOConfig()
        (grpo.policy, grpo.adapter, grpo.prompts, grpo.out, grpo.evalPrompts, grpo.evalEvery, grpo.evalTemperature, grpo.chat) = ("p", "a", "q", "o", "e", 5, 0.5, true)
        (grpo.rewards.reward, grpo.rewards.rewardFn, grpo.rewards.rewardCmd) = (["r1", "r2"], ["contains", "length:20"], ["./score.py"])
        (grpo.rewards.rewardWeights, grpo.rewards.rewardCmdTimeout) = ([1, 0.5, 2, 0.25, 3], 30)
        (grpo.steps, grpo.batchSize, grpo.numGenerations, grpo.gradAccum, grpo.learningRate, grpo.lrSchedule, grpo.warmupSteps) = (9, 12, 4, 3, 2e-5, .cosine, 2)
        (grpo.maxGradNorm, grpo.maxCompletionLength, grpo.temperature, grpo.topK, grpo.topP, grpo.seed) = (0.5, 64, 0.9, 40, 0.95, 9)
        (grpo.beta, grpo.epsilon, grpo.epsilonHigh, grpo.lossType, grpo.scaleRewards, grpo.advantage) = (0.04, 0.1, 0.28, .drGRPO, .batch, .rloo)
        (grpo.normalizeAdvantages, grpo.numIterations, grpo.maskTruncatedCompletions, grpo.saveEvery) = (true, 2, true, 3)
        (grpo.lora.rank, grpo.lora.targets) = (4, ["c_attn", "c_proj"])

        try assertRoundTrip(sft)
        try assertRoundTrip(pretrain)
        try assertRoundTrip(reward)
        try assertRoundTrip(ppo)
        try assertRoundTrip(dpo)
        try assertRoundTrip(kto)
        try assertRoundTrip(grpo)
        XCTAssertTrue(ppo.commandLine.hasPrefix("rlhf ppo --policy p --adapter a --reward r --prompts q --out o "), ppo.commandLine)
        XCTAssertEqual(SFTConfig().commandLine, "rlhf sft", "defaults need no flags")
    }

    private func changed(_ training: TrainingConfig) -> TrainingConfig {
        var config = training
        (config.steps, config.epochs, config.batchSize, config.gradAccum, config.learningRate) = (11, 2.5, 3, 2, 3e-4)
        (config.optimizer, config.weightDecay, config.momentum, config.schedule, config.warmupSteps) = (.sgd, 0.01, 0.9, .cosine, 5)
        (config.maxGradNorm, config.seed, config.shuffle, config.saveEvery, config.evalEvery) = (0.5, 7, false, 4, 6)
        return config
    }

    private func assertRoundTrip<Config: RunConfiguration>(_ config: Config, file: StaticString = #filePath, line: UInt = #line) throws {
        let arguments = config.commandLine.split(separator: " ").dropFirst().map(String.init)
        XCTAssertFalse(arguments.contains { $0.hasPrefix("'") }, "no quoting in these values", file: file, line: line)
        let printed = try runRLHF(arguments + ["--print-config"])
        XCTAssertEqual(printed.status, 0, printed.stderr, file: file, line: line)
        XCTAssertEqual(try ConfigCoding.decode(Config.self, from: Data(printed.stdout.utf8)), config, config.commandLine, file: file, line: line)
    }

    /// `--config FILE` fills every field it has, flags given as well override it, and a misspelt field fails naming it.
    func testConfigFileAndFlagsCombine() throws {
        let file = try temporaryDirectory().appendingPathComponent("dpo.json")
        try Data(#"{"model": "m", "beta": 0.5, "training": {"lr": 0.25, "batch_size": 4}, "lora": {"lora_rank": 8}}"#.utf8).write(to: file)
        let printed = try runRLHF(["dpo", "--config", file.path, "--lr", "0.125", "--print-config"])
        XCTAssertEqual(printed.status, 0, printed.stderr)
        let config = try ConfigCoding.decode(DPOConfig.self, from: Data(printed.stdout.utf8))
        XCTAssertEqual(config.model, "m")
        XCTAssertEqual(config.beta, 0.5)
        XCTAssertEqual(config.training.learningRate, 0.125, "the flag wins")
        XCTAssertEqual(config.training.batchSize, 4)
        XCTAssertEqual(config.lora.rank, 8)
        XCTAssertEqual(config.training.epochs, DPOConfig().training.epochs, "what the file leaves out keeps its default")

        try Data("{\"model\": \"m\",\n \"training\": {\n  \"learning_rate\": 0.25}}".utf8).write(to: file)
        let misspelt = try runRLHF(["dpo", "--config", file.path, "--print-config"])
        XCTAssertNotEqual(misspelt.status, 0)
        XCTAssertTrue(misspelt.stderr.contains("\(file.path):3: unknown field training.learning_rate"), misspelt.stderr)
        try Data("{\"model\": \"m\",\n \"beta\": \"high\"}".utf8).write(to: file)
        let mistyped = try runRLHF(["dpo", "--config", file.path, "--print-config"])
        XCTAssertTrue(mistyped.stderr.contains("\(file.path):2: field beta has the wrong type"), mistyped.stderr)
    }

    /// Resuming with another learning rate is refused with one line naming `lr` (it would silently change the run),
    /// unless asked for; the checkpoint cadence may change.
    func testResumeWithAChangedLearningRateIsRefused() throws {
        let out = try temporaryDirectory().appendingPathComponent("sft")
        let common = ["sft", "--model", Fixture.gpt2, "--data", Fixture.demonstrations, "--out", out.path, "--steps", "4", "--batch-size", "2",
                      "--eval-split", "0", "--save-every", "2"]
        XCTAssertEqual(try runRLHF(common + ["--lr", "1e-3"]).status, 0)
        let refused = try runRLHF(common + ["--lr", "2e-3", "--resume"])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("lr 0.001 → 0.002"), refused.stderr)
        XCTAssertEqual(refused.stderr.split(separator: "\n").count, 1, refused.stderr)
        let cadence = try runRLHF(common + ["--lr", "1e-3", "--save-every", "1", "--resume"])
        XCTAssertEqual(cadence.status, 0, cadence.stderr)
        let forced = try runRLHF(common + ["--lr", "2e-3", "--resume", "--allow-config-change"])
        XCTAssertEqual(forced.status, 0, forced.stderr)
    }

    /// `rlhf dpo` from the command line: TRL's metric names in metrics.jsonl and TensorBoard events; a run killed
    /// with SIGKILL after a checkpoint and resumed ends with exactly the weights and metrics of an uninterrupted one.
    func testDPOLogsAndAKilledRunResumesToTheSameWeights() throws {
        let arguments = { (out: URL) in
            ["dpo", "--model", Fixture.gpt2, "--data", Fixture.pairs, "--out", out.path, "--steps", "12", "--batch-size", "4",
             "--lr", "1e-3", "--save-every", "3", "--eval-split", "0.1", "--eval-every", "4"]
        }
        let straight = try temporaryDirectory().appendingPathComponent("dpo")
        let run = try runRLHF(arguments(straight) + ["--json"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let result = try ConfigCoding.decode(PrintedResult.self, from: Data(run.stdout.utf8))
        XCTAssertEqual(result.steps, 12)
        for key in ["rewards/chosen", "rewards/rejected", "rewards/accuracies", "rewards/margins", "logps/chosen", "logps/rejected",
                    "eval_rewards/accuracies", "loss", "grad_norm"] {
            XCTAssertNotNil(result.metrics[key], key)
        }
        let events = try FileManager.default.contentsOfDirectory(atPath: straight.appendingPathComponent("runs").path)
        XCTAssertEqual(events.filter { $0.hasPrefix("events.out.tfevents.") }.count, 1)

        let killed = try temporaryDirectory().appendingPathComponent("dpo")
        try killRLHF(arguments(killed)) { self.exists(killed.appendingPathComponent("checkpoint-000006")) }
        let resumed = try runRLHF(arguments(killed) + ["--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("resuming at step"), resumed.stderr)
        XCTAssertEqual(try Data(contentsOf: killed.appendingPathComponent("model.safetensors")),
                       try Data(contentsOf: straight.appendingPathComponent("model.safetensors")))
        let metrics = { (directory: URL) in
            try String(contentsOf: directory.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n")
                .compactMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
                .map { $0.filter { $0.key != "tokens_per_second" }.mapValues { "\($0)" } }
        }
        XCTAssertEqual(try metrics(killed), try metrics(straight), "every step logged once, with the same values")
    }

    /// `rlhf kto` on thumbs-up/down feedback: the reference point and TRL's metrics are logged, the held-out
    /// margin between desirable and undesirable completions grows; preference pairs are read as one desirable and
    /// one undesirable completion each; a batch of one is refused.
    func testKTOLearnsFromThumbs() throws {
        let root = try temporaryDirectory()
        let thumbs = root.appendingPathComponent("thumbs.jsonl")
        let pairs = try PreferencePair.load(URL(fileURLWithPath: Fixture.pairs))
        try JSONLines.write(pairs.flatMap { pair in
            [LabeledCompletionLine(prompt: pair.prompt, completion: pair.chosen, label: true),
             LabeledCompletionLine(prompt: pair.prompt, completion: pair.rejected, label: false)]
        }, to: thumbs)
        let out = root.appendingPathComponent("kto")
        let run = try runRLHF(["kto", "--model", Fixture.gpt2, "--data", thumbs.path, "--out", out.path, "--steps", "30",
                               "--batch-size", "8", "--lr", "2e-3", "--eval-split", "0.2", "--eval-every", "30", "--json"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let result = try ConfigCoding.decode(PrintedResult.self, from: Data(run.stdout.utf8))
        for key in ["kl", "rewards/chosen", "rewards/rejected", "rewards/margins", "logps/chosen", "logps/rejected", "eval_rewards/margins"] {
            XCTAssertNotNil(result.metrics[key], key)
        }
        print("kto held-out margin \(result.metrics["eval_rewards/margins"]!)")
        XCTAssertGreaterThan(result.metrics["eval_rewards/margins"] ?? 0, 0.1)
        let fromPairs = try runRLHF(["kto", "--model", Fixture.gpt2, "--data", Fixture.pairs, "--out", root.appendingPathComponent("pairs").path,
                                     "--steps", "2", "--json"])
        XCTAssertEqual(fromPairs.status, 0, fromPairs.stderr)
        // 96 pairs → 192 examples, 5% (10) held out.
        XCTAssertTrue(fromPairs.stderr.contains("kto (β 0.1): 182 training examples"), fromPairs.stderr)
        let one = try runRLHF(["kto", "--model", Fixture.gpt2, "--data", thumbs.path, "--out", root.appendingPathComponent("x").path,
                               "--batch-size", "1"])
        XCTAssertNotEqual(one.status, 0)
        XCTAssertTrue(one.stderr.contains("batch_size must be at least 2"), one.stderr)
    }

    private struct LabeledCompletionLine: Encodable { let prompt: String, completion: String, label: Bool }

    /// What `--json` prints of a run's result.
    private struct PrintedResult: Decodable { let steps: Int, metrics: [String: Double], seconds: Double, peakMemoryBytes: Int }
}

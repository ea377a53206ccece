import Alignment
import Data
import Foundation
import Models
import NN
import Tensor
import Tokenizer
import XCTest

/// Encoder classifiers (RoBERTa here) as reward models: `rlhf reward train`'s trainer on the first token's logit.
final class EncoderRewardTests: XCTestCase {
    static let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let models = here.deletingLastPathComponent().appendingPathComponent("ModelsTests/Fixtures")
    static let rulePairs = here.appendingPathComponent("Fixtures/reward-rule/pairs.jsonl")

    private func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("rlhf-encoder-reward-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// One plain SGD step (lr 0.1) of the pairwise loss on tiny-roberta-reward: the ids (prompt + completion as one
    /// text with `<s> … </s>`), the rewards and loss before the step, and every parameter after it match PyTorch
    /// within 1e-5 (scripts/fixtures/make_encoder_fixtures.py, roberta-reward-sgd-step).
    func testOneSGDStepMatchesPyTorch() throws {
        let fixture = Self.here.appendingPathComponent("Fixtures/roberta-reward-sgd-step")
        let directory = Self.models.appendingPathComponent("tiny-roberta-reward")
        let meta = try JSONSerialization.jsonObject(with: Data(contentsOf: fixture.appendingPathComponent("meta.json"))) as! [String: Any]
        let tokenizer = try Tokenizer(directory: directory)
        let model = try ModelDirectory.rewardClassifierToTrain(directory, seed: 0)
        XCTAssertTrue(model is EncoderClassifier)
        XCTAssertEqual(RewardLayout.of(model), .oneText)
        let groups = try RewardGroup.groups(try PreferencePair.load(fixture.appendingPathComponent("pairs.jsonl")), tokenizer: tokenizer,
                                            maxLength: 512, input: .oneText)
        let sequences = groups.flatMap(\.sequences)
        let ids = meta["input_ids"] as! [[Int]], mask = meta["attention_mask"] as! [[Int]]
        XCTAssertEqual(sequences.map(\.ids), zip(ids, mask).map { row, mask in Array(row.prefix(mask.reduce(0, +))) })

        let before = try model.rewards(of: sequences, padID: tokenizer.paddingID)
        let expectedRewards = (meta["rewards"] as! [Double]).map(Float.init)
        XCTAssertLessThanOrEqual(zip(before, expectedRewards).map { abs($0 - $1) }.max()!, 1e-5, "\(before) vs \(expectedRewards)")

        var config = TrainingConfig(learningRate: 0.1)
        (config.steps, config.batchSize, config.optimizer, config.schedule, config.maxGradNorm, config.shuffle) = (1, 8, .sgd, .constant, 0, false)
        let trainer = RewardTrainer(model: model, train: groups, eval: [], padID: tokenizer.paddingID, config: config, tokenizerDirectory: nil)
        var loss: Double?
        try train(trainer, config, output: try temporaryDirectory(), totalSteps: 1) { event in
            if case .stepEnded(_, _, let metrics) = event { loss = metrics["loss"] }
            return true
        }
        XCTAssertEqual(try XCTUnwrap(loss), meta["loss"] as! Double, accuracy: 1e-5)
        let expected = try SafetensorsFile(contentsOf: fixture.appendingPathComponent("expected.safetensors"))
        XCTAssertEqual(Set(expected.names), Set(model.namedParameters.map(\.name)))
        var worst: Float = 0, moved: Float = 0
        for (name, parameter) in model.namedParameters {
            let reference = try expected.tensor(name).scalars
            worst = max(worst, zip(parameter.value.scalars, reference).map { abs($0 - $1) }.max()!)
            moved = max(moved, zip(try SafetensorsCheckpoint(directory: directory).tensor(name).scalars, reference).map { abs($0 - $1) }.max()!)
        }
        print("roberta reward one SGD step vs PyTorch: loss \(loss!), max |Δ weight| \(worst) (the step moved weights by up to \(moved))")
        XCTAssertLessThanOrEqual(worst, 1e-5)
        XCTAssertGreaterThan(moved, 1e-3, "the step changes the weights")
    }

    /// A bare RoBERTa encoder (`RobertaModel`'s layout: no head, no `roberta.` prefix) as transformers saves one.
    private func bareEncoder() throws -> URL {
        let source = Self.models.appendingPathComponent("tiny-roberta-classifier")
        let directory = try temporaryDirectory()
        let weights = try SafetensorsFile(contentsOf: source.appendingPathComponent("model.safetensors"))
        let encoder = try weights.names.filter { $0.hasPrefix("roberta.") }.sorted()
            .map { (name: String($0.dropFirst("roberta.".count)), tensor: try weights.tensor($0)) }
        try Safetensors.write(encoder, metadata: ["format": "pt"], to: directory.appendingPathComponent("model.safetensors"))
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: source.appendingPathComponent("config.json"))) as! [String: Any]
        config["architectures"] = ["RobertaModel"]
        try JSONSerialization.data(withJSONObject: config).write(to: directory.appendingPathComponent("config.json"))
        try ModelDirectory.copyTokenizerFiles(from: source, to: directory)
        return directory
    }

    private func ruleRun(model: URL, out: URL, steps: Int, lora: Int = 0) -> RewardConfig {
        var config = RewardConfig()
        (config.model, config.dataset.data, config.out, config.dataset.evalSplit, config.dataset.maxLength) = (model.path, Self.rulePairs.path, out.path, 0.25, 64)
        (config.training.steps, config.training.batchSize, config.training.learningRate, config.training.schedule) = (steps, 8, 2e-3, .constant)
        if lora > 0 { (config.lora.rank, config.lora.targets) = (lora, ["query", "value"]) }
        return config
    }

    /// `rlhf reward train` on a bare encoder: a new 1-label head learns the hidden rule (the chosen reply is the polite
    /// one), and the output is a RobertaForSequenceClassification directory whose rewards are normalised
    /// (`rlhf_reward_offset` in config.json) and order the held-out pairs as training did.
    func testRewardTrainOnABareEncoderLearnsTheRule() throws {
        let out = try temporaryDirectory().appendingPathComponent("reward")
        let result = try ruleRun(model: try bareEncoder(), out: out, steps: 40).run()
        let accuracy = try XCTUnwrap(result.metrics["eval_accuracy"])
        print("encoder reward (bare RoBERTa, new head) held-out accuracy: \(accuracy)")
        XCTAssertGreaterThanOrEqual(accuracy, 0.9)

        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("config.json"))) as! [String: Any]
        XCTAssertEqual(config["architectures"] as? [String], ["RobertaForSequenceClassification"])
        XCTAssertEqual(config["id2label"] as? [String: String], ["0": "LABEL_0"])
        let offset = try XCTUnwrap(config["rlhf_reward_offset"] as? Double)
        let reloaded = try XCTUnwrap(try ModelDirectory.loadClassifier(out) as? EncoderClassifier)
        XCTAssertEqual(reloaded.labelNames, ["LABEL_0"])
        XCTAssertEqual(reloaded.offset, Float(offset))

        // The run's training groups (its seeded split): their rewards (logit − offset) have mean 0 and standard
        // deviation 1, so the offset survived the save; the held-out pairs are ranked as the run's accuracy said.
        let tokenizer = try Tokenizer(directory: out)
        let groups = try RewardGroup.groups(try PreferencePair.load(Self.rulePairs), tokenizer: tokenizer, maxLength: 64, input: .oneText)
        let (trainGroups, eval) = heldOut(groups, fraction: 0.25, seed: RewardConfig().training.seed)
        let rewards = try reloaded.rewards(of: trainGroups.flatMap(\.sequences), padID: tokenizer.paddingID)
        let mean = rewards.reduce(0, +) / Float(rewards.count)
        let std = (rewards.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(rewards.count)).squareRoot()
        XCTAssertEqual(mean, 0, accuracy: 1e-4)
        XCTAssertEqual(std, 1, accuracy: 1e-4)
        var right = 0, count = 0
        for group in eval {
            let scores = try reloaded.rewards(of: group.sequences, padID: tokenizer.paddingID)
            for comparison in group.comparisons {
                count += 1
                if scores[comparison.better] > scores[comparison.worse!] { right += 1 }
            }
        }
        XCTAssertEqual(Double(right) / Double(count), accuracy, accuracy: 1e-9)

        // As `--reward-classifier DIR --reward-label LABEL_0`, its logit less the offset scores a response.
        let scorer = try ClassifierScorer(directory: out.path, label: "LABEL_0", transform: .logit, policyTokenizer: tokenizer)
        let reply = " Sure! Let us look at the oven together, please tell me more."
        let score = try scorer.scores(queries: [[]], responses: [tokenizer.encode(reply, addSpecialTokens: false)])
        let expected = try reloaded.rewards(of: [try RewardGroup.sequence("", reply, tokenizer: tokenizer, maxLength: 64, input: .oneText)],
                                            padID: tokenizer.paddingID)
        XCTAssertEqual(score[0], expected[0], accuracy: 1e-6)
        XCTAssertNotEqual(reloaded.offset, 0)
    }

    /// The classifier objective on a 2-label RoBERTa classifier (label 1 is the reward), then a save that
    /// `loadClassifier` reads back with exactly the trained model's logits.
    func testClassifierObjectiveSavesWhatLoadClassifierReadsBack() throws {
        let directory = Self.models.appendingPathComponent("tiny-roberta-classifier")
        let tokenizer = try Tokenizer(directory: directory)
        let model = try ModelDirectory.rewardClassifierToTrain(directory, seed: 0)
        XCTAssertEqual(model.positiveLabel, 1)
        let labelled = try PreferencePair.load(Self.rulePairs).flatMap {
            [LabeledCompletion(prompt: $0.prompt, completion: $0.chosen, label: true), LabeledCompletion(prompt: $0.prompt, completion: $0.rejected, label: false)]
        }
        let (trainGroups, eval) = heldOut(try RewardGroup.groups(labelled, tokenizer: tokenizer, maxLength: 64, input: .oneText), fraction: 0.25, seed: 2)
        var config = TrainingConfig(learningRate: 2e-3)
        (config.steps, config.batchSize, config.schedule) = (40, 16, .constant)
        let trainer = RewardTrainer(model: model, train: trainGroups, eval: eval, padID: tokenizer.paddingID, config: config,
                                    tokenizerDirectory: directory)
        let output = try temporaryDirectory()
        try train(trainer, config, output: output, totalSteps: 40)
        let accuracy = try withNoGrad { try trainer.evaluate()["eval_accuracy"]! }
        print("encoder classifier-objective held-out accuracy: \(accuracy)")
        XCTAssertGreaterThanOrEqual(accuracy, 0.9)

        try trainer.saveModel(to: output)
        let reloaded = try ModelDirectory.loadClassifier(output)
        XCTAssertEqual(reloaded.labelNames, ["nothate", "hate"])
        let batch = Batch(eval.flatMap(\.sequences), padID: tokenizer.paddingID)
        let logits = { (classifier: any SequenceClassifier) in
            try withNoGrad { try classifier.logits(batch.ids, batch: batch.size, length: batch.length, keyMask: batch.keyMask).scalars }
        }
        XCTAssertEqual(try logits(reloaded), try logits(model))
    }

    /// LoRA on the encoder's query and value: the encoder stays as it was, adapters and the `classifier` head train,
    /// and a run stopped after a checkpoint and resumed saves exactly the model of an uninterrupted one.
    func testLoRARunTrainsAdaptersAndHeadAndResumesExactly() throws {
        let encoder = try bareEncoder()
        let root = try temporaryDirectory()
        func config(_ name: String) -> RewardConfig {
            var config = ruleRun(model: encoder, out: root.appendingPathComponent(name), steps: 6, lora: 4)
            config.training.saveEvery = 2
            return config
        }
        let straight = try config("straight").run()
        let stopped = try config("interrupted").run(RunControl { event in
            if case .stepEnded(let step, _, _) = event { return step < 3 }
            return true
        })
        XCTAssertEqual(stopped.steps, 3)
        let resumed = try config("interrupted").run(RunControl(resume: true))
        XCTAssertEqual(resumed.steps, 6)
        let weights = { (run: RunResult) in try Data(contentsOf: URL(fileURLWithPath: run.output).appendingPathComponent("model.safetensors")) }
        XCTAssertEqual(try weights(resumed), try weights(straight))
        for key in ["loss", "accuracy", "eval_loss", "eval_accuracy"] { XCTAssertNotNil(straight.metrics[key], key) }

        // Merged adapters change the adapted layers only; the head is new and trained.
        let base = try SafetensorsFile(contentsOf: encoder.appendingPathComponent("model.safetensors"))
        let saved = try SafetensorsFile(contentsOf: URL(fileURLWithPath: straight.output).appendingPathComponent("model.safetensors"))
        for name in base.names {
            let changed = try base.tensor(name).scalars != saved.tensor("roberta." + name).scalars
            let adapted = name.hasSuffix("attention.self.query.weight") || name.hasSuffix("attention.self.value.weight")
            XCTAssertEqual(changed, adapted, name)
        }
        XCTAssertTrue(saved.names.contains("classifier.out_proj.weight"))
        // What trains: the adapters (PEFT's default targets here) and RoBERTa's whole `classifier` head.
        let model = try ModelDirectory.rewardClassifierToTrain(encoder, seed: 0)
        let adapters = try PEFTAdapter.attach(to: model.adaptableBase, defaultTargets: model.defaultLoRATargets, rank: 4, alpha: 16, dropout: 0, seed: 0)
        XCTAssertEqual(adapters.layers.map(\.path).filter { !$0.hasSuffix(".query") && !$0.hasSuffix(".value") }, [])
        let tokenizer = try Tokenizer(directory: encoder)
        let groups = try RewardGroup.groups(try PreferencePair.load(Self.rulePairs), tokenizer: tokenizer, maxLength: 64, input: .oneText)
        let trainer = RewardTrainer(model: model, train: groups, eval: [], padID: tokenizer.paddingID, config: TrainingConfig(learningRate: 1e-3),
                                    tokenizerDirectory: nil, adapters: adapters)
        let head = ["classifier.dense.weight", "classifier.dense.bias", "classifier.out_proj.weight", "classifier.out_proj.bias"]
        XCTAssertEqual(Set(trainer.trainableParameters.map(\.name)), Set(head + adapters.namedParameters.map(\.name)))
        let checkpoint = root.appendingPathComponent("interrupted/checkpoint-000002")
        XCTAssertTrue(FileManager.default.fileExists(atPath: checkpoint.appendingPathComponent(PEFTAdapter.weightsFile).path))
    }
}

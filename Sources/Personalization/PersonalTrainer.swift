import Alignment
import Data
import Feedback
import Foundation
import Models
import NN
import Tensor
import Tokenizer

/// Trains one user's adapter from all of their feedback: DPO on their choices (with replayed base preferences), KTO
/// on their thumbs and SFT on their corrections, summed in each step (`TaskMixture`), DPO and KTO anchored to the base
/// (the reference is the base with the adapters off). Every update starts from the same fresh adapter, so a version
/// depends only on the feedback it learnt from and the seed.
final class PersonalTrainer {
    private let config: PersonalizationConfig
    private let directory: URL
    private let tokenizer: Tokenizer
    /// A second instance of the served model sharing its weights, so training runs beside serving.
    private let model: any CausalLanguageModel
    let adapters: LoRAAdapters
    private let initialWeights: [Tensor]
    private let replay: [TokenizedPreference]
    private let maxLength: Int

    init(config: PersonalizationConfig, directory: URL, base: any CausalLanguageModel, tokenizer: Tokenizer) throws {
        (self.config, self.directory, self.tokenizer) = (config, directory, tokenizer)
        model = try ModelDirectory.instance(sharingWeightsOf: base)
        adapters = try config.lora.attach(to: model, baseModel: config.model, seed: config.seed)!
        initialWeights = adapters.namedParameters.map { $0.parameter.value }
        maxLength = min(model.maxPositions ?? 1024, 1024)
        let length = maxLength
        replay = try config.replay.map { file in
            try PreferencePair.load(URL(fileURLWithPath: file)).compactMap { try $0.tokenized(with: tokenizer).truncated(to: length) }
        } ?? []
    }

    /// Trains on `feedback` (resetting the adapter first); `afterStep(step, total, seconds)` paces the work and returns
    /// false to abandon it (a deleted user). Returns false when abandoned.
    func train(_ feedback: PersonalFeedback, afterStep: (Int, Int, Double) -> Bool) throws -> Bool {
        for (parameter, value) in zip(adapters.namedParameters.map(\.parameter), initialWeights) {
            // A copy: the optimizer updates values in place.
            try parameter.assign(try Tensor(shape: value.shape, scalars: value.scalars))
        }
        adapters.isTraining = true
        defer { adapters.isTraining = false }
        let training = config.training
        let models = PolicyModels(directory: directory, policy: model, adapters: adapters)
        let reference = ReferencePolicy(baseOf: model, adapters: adapters)
        var members: [(task: any TrainingTask, weight: Float)] = []
        var largest = 0

        var pairs = try feedback.pairs.compactMap {
            TokenizedPreference(prompt: tokenizer.encodeRendered($0.prompt), chosen: try tokenizer.encodeCompletion($0.chosen),
                                rejected: try tokenizer.encodeCompletion($0.rejected)).truncated(to: maxLength)
        }.filter { $0.chosen != $0.rejected }  // identical replies teach nothing
        if !pairs.isEmpty, !replay.isEmpty {
            let count = min(replay.count, Int((Double(pairs.count) * config.replayRatio).rounded()))
            var generator = SeededGenerator(seed: config.seed &+ UInt64(feedback.lastEventID))
            pairs += replay.shuffled(using: &generator).prefix(count)
        }
        if !pairs.isEmpty {
            let loss = DPOLoss(type: .sigmoid, beta: config.beta, rpoAlpha: config.rpoAlpha)
            members.append((try DPOTrainer(models: models, reference: reference, train: pairs, eval: [], loss: loss, config: training,
                                           precompute: true, padID: tokenizer.paddingID), 1))
            largest = max(largest, pairs.count)
        }
        if feedback.thumbs.count >= 2 {
            let labeled = try feedback.thumbs.map { thumb in
                let (prompt, completion) = (tokenizer.encodeRendered(thumb.prompt), try tokenizer.encodeCompletion(thumb.completion))
                return (prompt, Array(completion.prefix(max(1, maxLength - prompt.count))), thumb.up)
            }
            let loss = KTOLoss(beta: config.beta)
            members.append((try KTOTrainer(models: models, reference: reference, train: KTOExample.examples(labeled, batchSize: training.batchSize),
                                           eval: [], loss: loss, config: training, precompute: true, padID: tokenizer.paddingID), 1))
            largest = max(largest, feedback.thumbs.count)
        }
        if !feedback.corrections.isEmpty, config.correctionWeight > 0 {
            let examples = try feedback.corrections.map { correction in
                let (prompt, completion) = (tokenizer.encodeRendered(correction.prompt), try tokenizer.encodeCompletion(correction.text))
                return TokenizedExample(ids: prompt + completion,
                                        labels: [Int](repeating: TokenizedExample.ignoredLabel, count: prompt.count) + completion).truncated(to: maxLength)
            }
            members.append((SFTTrainer(model: model, train: examples, eval: [], padID: tokenizer.paddingID, config: training,
                                       tokenizerDirectory: nil, adapters: adapters), config.correctionWeight))
            largest = max(largest, examples.count)
        }
        guard !members.isEmpty else { return true }
        let task = try TaskMixture(members)
        let total = training.totalSteps(exampleCount: largest)
        let descent = GradientDescent(task: task, config: training, totalSteps: total)
        for step in 0..<total {
            let started = DispatchTime.now().uptimeNanoseconds
            _ = try descent.step(step)
            guard afterStep(step + 1, total, Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9) else { return false }
        }
        return true
    }
}

extension Tokenizer {
    /// A prompt the chat template rendered: the template writes BOS itself where the model wants one. Replies are
    /// decoded and trained from the same ids.
    func encodeRendered(_ prompt: String) -> [Int] { encode(prompt, addSpecialTokens: false) }
}

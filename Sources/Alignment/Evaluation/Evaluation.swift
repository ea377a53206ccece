import Data
import Foundation
import Models
import NN
import Tensor

/// Before/after comparison of a tuned model with its baseline on the same prompts (`rlhf eval`).
public struct Evaluation: Sendable {
    public struct Side: Encodable, Sendable {
        public let meanReward: Double
        /// 95% interval of the mean (normal approximation).
        public let rewardInterval: [Double]
        public let meanLength: Double
        /// Distinct n-grams over all n-grams of the responses (n = 1, 2): low values flag repetition.
        public let distinct1: Double
        public let distinct2: Double
        /// Share of responses that repeat one token 4+ times in a row (a reward-hacking signal).
        public let repetitionRate: Double
        public let extraRewards: [String: Double]
        /// Per "classifier:label": the label's mean probability and the share of responses at or above the threshold.
        public let labelRates: [String: LabelRate]
        /// Every response (token ids, EOS included when reached), in query order; not encoded.
        public let responses: [[Int]]

        enum CodingKeys: String, CodingKey {
            case meanReward, rewardInterval, meanLength, distinct1, distinct2, repetitionRate, extraRewards, labelRates
        }
    }

    /// A classifier label's probability over the responses (e.g. toxicity), with 95% intervals: normal for the mean,
    /// Wilson for the share.
    public struct LabelRate: Encodable, Sendable {
        public let meanProbability: Double
        public let meanInterval: [Double]
        public let shareAtThreshold: Double
        public let shareInterval: [Double]
        public let threshold: Double

        init(_ probabilities: [Float], threshold: Double) {
            let values = probabilities.map(Double.init)
            (meanProbability, meanInterval) = meanWithInterval(values)
            let n = Double(values.count), share = Double(values.filter { $0 >= threshold }.count) / Double(values.count)
            let z = 1.96, center = (share + z * z / (2 * n)) / (1 + z * z / n)
            let half = z / (1 + z * z / n) * (share * (1 - share) / n + z * z / (4 * n * n)).squareRoot()
            (shareAtThreshold, shareInterval, self.threshold) = (share, [center - half, center + half], threshold)
        }
    }

    public let model: Side
    public let baseline: Side
    /// Share of responses where the model's outscores the baseline's to the same prompt (ties count half).
    public let winRate: Double
    /// Mean over responses of Σ_t (log π_model − log π_baseline) of the model's own tokens, per token.
    public let klPerToken: Double
    public let prompts: Int

    /// Responses of both models to `queries` (greedy by default; with sampling, `samplesPerPrompt` of each, both
    /// models drawing with the same seeds), scored by `scorer` and every extra scorer.
    public static func run(model: any LanguageModel, baseline: any LanguageModel, scorer: any ResponseScorer,
                           extraScorers: [String: any ResponseScorer] = [:], labelScorers: [String: any ResponseScorer] = [:],
                           threshold: Double = 0.5, queries prompts: [[Int]], maxNewTokens: Int,
                           stopTokenIDs: Set<Int>, padID: Int, sampling: SamplingOptions = .greedy,
                           samplesPerPrompt: Int = 1) throws -> Evaluation {
        try run(models: [model], baseline: baseline, scorer: scorer, extraScorers: extraScorers, labelScorers: labelScorers,
                threshold: threshold, queries: prompts,
                maxNewTokens: maxNewTokens, stopTokenIDs: stopTokenIDs, padID: padID, sampling: sampling,
                samplesPerPrompt: samplesPerPrompt)[0]
    }

    /// `run` for several tuned models against one baseline, whose responses are generated and scored once.
    public static func run(models: [any LanguageModel], baseline: any LanguageModel, scorer: any ResponseScorer,
                           extraScorers: [String: any ResponseScorer] = [:], labelScorers: [String: any ResponseScorer] = [:],
                           threshold: Double = 0.5, queries prompts: [[Int]], maxNewTokens: Int,
                           stopTokenIDs: Set<Int>, padID: Int, sampling: SamplingOptions = .greedy,
                           samplesPerPrompt: Int = 1) throws -> [Evaluation] {
        let queries = prompts.flatMap { Array(repeating: $0, count: samplesPerPrompt) }
        let options = TextGenerator.Options(maxNewTokens: maxNewTokens, sampling: sampling, stopTokenIDs: stopTokenIDs, padTokenID: padID)
        func side(_ responses: [[Int]], _ scores: [Float]) throws -> Side {
            let (mean, interval) = meanWithInterval(scores.map(Double.init))
            var extras: [String: Double] = [:], rates: [String: LabelRate] = [:]
            for (name, extra) in extraScorers {
                let s = try extra.scores(queries: queries, responses: responses)
                extras[name] = Double(s.reduce(0, +)) / Double(s.count)
            }
            for (name, classifier) in labelScorers {
                rates[name] = LabelRate(try classifier.scores(queries: queries, responses: responses), threshold: threshold)
            }
            return Side(meanReward: mean, rewardInterval: interval,
                        meanLength: Double(responses.map(\.count).reduce(0, +)) / Double(responses.count),
                        distinct1: distinct(responses, n: 1), distinct2: distinct(responses, n: 2),
                        repetitionRate: Double(responses.filter(hasRun).count) / Double(responses.count), extraRewards: extras, labelRates: rates,
                        responses: responses)
        }
        let base = try baseline.generate(queries, options: options)
        let baseScores = try scorer.scores(queries: queries, responses: base)
        let baseSide = try side(base, baseScores)
        return try models.map { model in
            let tuned = try model.generate(queries, options: options)
            let tunedScores = try scorer.scores(queries: queries, responses: tuned)
            let wins = zip(tunedScores, baseScores).map { $0 > $1 ? 1.0 : ($0 == $1 ? 0.5 : 0) }.reduce(0, +)
            let batch = RolloutBatch(queries: queries, responses: tuned.map { $0.isEmpty ? [padID] : $0 }, padID: padID)
            let (tunedLog, baseLog) = try withNoGrad {
                (try model.responseLogProbabilities(batch).scalars, try baseline.responseLogProbabilities(batch).scalars)
            }
            var kl = 0.0, tokens = 0.0
            for (i, mask) in batch.responseMask.enumerated() where mask == 1 {
                kl += Double(tunedLog[i] - baseLog[i])
                tokens += 1
            }
            return Evaluation(model: try side(tuned, tunedScores), baseline: baseSide, winRate: wins / Double(queries.count),
                              klPerToken: tokens > 0 ? kl / tokens : 0, prompts: prompts.count)
        }
    }

    static func distinct(_ responses: [[Int]], n: Int) -> Double {
        var seen = Set<[Int]>(), total = 0
        for response in responses where response.count >= n {
            for start in 0...(response.count - n) {
                seen.insert(Array(response[start..<(start + n)]))
                total += 1
            }
        }
        return total == 0 ? 0 : Double(seen.count) / Double(total)
    }

    static func hasRun(_ response: [Int]) -> Bool {
        var run = 1
        for i in response.indices.dropFirst() {
            run = response[i] == response[i - 1] ? run + 1 : 1
            if run >= 4 { return true }
        }
        return false
    }
}

extension Evaluation: Encodable {}

/// The mean and its 95% interval (normal approximation, sample variance).
func meanWithInterval(_ values: [Double]) -> (mean: Double, interval: [Double]) {
    let mean = values.reduce(0, +) / Double(values.count)
    let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(max(1, values.count - 1))
    let halfWidth = 1.96 * (variance / Double(values.count)).squareRoot()
    return (mean, [mean - halfWidth, mean + halfWidth])
}

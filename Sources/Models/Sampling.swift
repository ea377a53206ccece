import Foundation
import Tensor

/// How the next token is chosen from the logits, in transformers' order: temperature, top-k, top-p.
public struct SamplingOptions: Sendable, Equatable {
    /// 0 picks the most likely token (greedy); otherwise logits are divided by it before sampling.
    public var temperature: Float = 1
    /// Keep only the k most likely tokens (0 = all).
    public var topK = 0
    /// Keep the smallest set of most likely tokens whose probability reaches p (1 = all).
    public var topP: Float = 1
    public var seed: UInt64 = 0

    public init(temperature: Float = 1, topK: Int = 0, topP: Float = 1, seed: UInt64 = 0) {
        (self.temperature, self.topK, self.topP, self.seed) = (temperature, topK, topP, seed)
    }

    public static let greedy = SamplingOptions(temperature: 0)
}

/// Draws tokens from logits rows with a seeded generator (reproducible runs).
struct TokenSampler {
    let options: SamplingOptions
    private var generator: SeededGenerator

    init(options: SamplingOptions) {
        self.options = options
        generator = SeededGenerator(seed: options.seed)
    }

    mutating func sample(_ logits: UnsafePointer<Float>, count: Int) -> Int {
        if options.temperature == 0 { return Self.argmax(logits, count) }
        var candidates = (0..<count).map { (id: $0, logit: logits[$0] / options.temperature) }
        if options.topK > 0, options.topK < count {
            candidates.sort { $0.logit > $1.logit }
            candidates.removeSubrange(options.topK...)
        }
        let maximum = candidates.map(\.logit).max() ?? 0
        var weights = candidates.map { Foundation.exp(Double($0.logit - maximum)) }
        if options.topP < 1 {
            let order = weights.indices.sorted { weights[$0] > weights[$1] }
            let total = weights.reduce(0, +)
            var kept = 0.0, keep = Set<Int>()
            for index in order where kept < Double(options.topP) * total || keep.isEmpty {
                keep.insert(index)
                kept += weights[index]
            }
            for index in weights.indices where !keep.contains(index) { weights[index] = 0 }
        }
        var target = Double.random(in: 0..<weights.reduce(0, +), using: &generator)
        for (index, weight) in weights.enumerated() {
            target -= weight
            if target < 0 { return candidates[index].id }
        }
        return candidates[weights.lastIndex { $0 > 0 } ?? 0].id
    }

    /// The first maximal index, as torch.argmax picks it.
    static func argmax(_ x: UnsafePointer<Float>, _ count: Int) -> Int {
        var best = 0
        for i in 1..<count where x[i] > x[best] { best = i }
        return best
    }
}

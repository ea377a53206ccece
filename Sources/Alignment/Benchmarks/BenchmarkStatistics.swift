import Tensor

/// A benchmark score with its 95% percentile-bootstrap interval over the items.
public struct BenchmarkScore: Encodable, Sendable, Equatable {
    public let value: Double
    public let interval: [Double]
}

/// A model's score against its baseline's on the same items: both, and their difference (model − baseline) with a
/// paired bootstrap interval (the same resampled items for both).
public struct BenchmarkComparison: Encodable, Sendable, Equatable {
    public let model: BenchmarkScore
    public let baseline: BenchmarkScore?
    public let difference: BenchmarkScore?
}

/// Percentile bootstrap over items: `resamples` draws of n items with replacement (seeded, so reruns print the same
/// intervals), the statistic on each, the 2.5th and 97.5th percentiles.
public struct Bootstrap: Sendable {
    public var resamples = 1000
    public var seed: UInt64 = 0

    public init(resamples: Int = 1000, seed: UInt64 = 0) { (self.resamples, self.seed) = (resamples, seed) }

    /// `statistic` of the model's items (and of the baseline's, item for item), each with its interval.
    public func compare<Item>(model: [Item], baseline: [Item]?, _ statistic: ([Item]) -> Double) -> BenchmarkComparison {
        let n = model.count
        var random = SeededGenerator(seed: seed)
        var draws: [[Double]] = [[], [], []]
        if n > 0 {
            for _ in 0..<resamples {
                let picks = (0..<n).map { _ in Int(random.next() % UInt64(n)) }
                let m = statistic(picks.map { model[$0] })
                draws[0].append(m)
                if let baseline {
                    let b = statistic(picks.map { baseline[$0] })
                    draws[1].append(b)
                    draws[2].append(m - b)
                }
            }
        }
        let score = { (value: Double, draws: [Double]) in BenchmarkScore(value: value, interval: Self.percentiles(draws)) }
        let (m, b) = (statistic(model), baseline.map(statistic))
        return BenchmarkComparison(model: score(m, draws[0]), baseline: b.map { score($0, draws[1]) },
                                   difference: b.map { score(m - $0, draws[2]) })
    }

    /// The 2.5th and 97.5th percentiles of the resamples where the statistic is defined (a bias score is not when a
    /// resample happens to hold no item of its kind).
    static func percentiles(_ values: [Double]) -> [Double] {
        let sorted = values.filter(\.isFinite).sorted()
        guard !sorted.isEmpty else { return [] }
        let at = { (q: Double) in sorted[min(sorted.count - 1, Int((q * Double(sorted.count - 1)).rounded()))] }
        return [at(0.025), at(0.975)]
    }
}

/// The first index of the largest value (numpy's argmax, which lm-eval's multiple-choice scoring uses).
func firstArgmax(_ values: [Double]) -> Int { values.firstIndex(of: values.max()!)! }

/// The mean of `values` (NaN when there are none).
func average(_ values: [Double]) -> Double { values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count) }

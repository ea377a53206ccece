import Tensor

extension BradleyTerry {
    /// Percentile bootstrap confidence intervals (Efron 1979) for `ratings`: the comparisons are
    /// resampled with replacement `resamples` times, each resample is refitted and anchored the
    /// same way, and each model's interval runs between the (1 − confidence) / 2 and
    /// (1 + confidence) / 2 quantiles (linear interpolation, as NumPy's default) of its refits.
    public func bootstrapIntervals(resamples: Int = 1000, confidence: Double = 0.95, seed: UInt64 = 0) -> [Model: ClosedRange<Double>] {
        precondition(resamples > 0 && !comparisons.isEmpty, "bootstrapping needs comparisons and resamples")
        var generator = SeededGenerator(seed: seed)
        var refits: [Model: [Double]] = [:]
        for _ in 0..<resamples {
            let resample = (0..<comparisons.count).map { _ in comparisons.randomElement(using: &generator)! }
            for (model, rating) in Self.ratings(resample, models: models, virtualTies: virtualTies, anchor: anchor) {
                refits[model, default: []].append(rating)
            }
        }
        return refits.mapValues { ratings in
            let sorted = ratings.sorted()
            return quantile(sorted, (1 - confidence) / 2)...quantile(sorted, (1 + confidence) / 2)
        }
    }
}

private func quantile(_ sorted: [Double], _ q: Double) -> Double {
    let position = q * Double(sorted.count - 1)
    let below = Int(position.rounded(.down))
    let above = min(below + 1, sorted.count - 1)
    return sorted[below] + (position - Double(below)) * (sorted[above] - sorted[below])
}

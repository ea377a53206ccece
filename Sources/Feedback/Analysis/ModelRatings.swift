/// Bradley–Terry rating of one model, on the Elo scale, with a 95% bootstrap interval.
public struct ModelRating: Codable, Sendable, Equatable {
    public let model: String
    public let rating: Double
    public let low: Double
    public let high: Double
    /// Consensus comparisons this model took part in.
    public let comparisons: Int
}

extension ProjectAnalysis {
    /// Ratings of the models that wrote the completions (the `model` field), from the consensus pairs whose
    /// two completions come from different models; empty when fewer than two models were compared.
    public func modelRatings(resamples: Int = 1000) -> [ModelRating] {
        var modelOf: [Int64: String] = [:]
        for item in snapshot.items {
            for completion in item.completions { modelOf[completion.id] = completion.model }
        }
        let comparisons = ModelComparison<String>.from(consensusPairs.flatMap(\.pairs)) { modelOf[$0] }
        guard !comparisons.isEmpty else { return [] }
        let fit = BradleyTerry(comparisons: comparisons)
        let intervals = fit.bootstrapIntervals(resamples: resamples)
        return fit.models.map { model in
            let rating = fit.ratings[model]!
            let interval = intervals[model] ?? rating...rating
            return ModelRating(model: model, rating: rating, low: interval.lowerBound, high: interval.upperBound,
                               comparisons: comparisons.count { $0.winner == model || $0.loser == model })
        }.sorted { $0.rating > $1.rating }
    }
}

import Foundation

/// Bradley–Terry strengths (Bradley & Terry 1952) of models from pairwise comparisons, fitted by
/// the MM algorithm (Hunter 2004, "MM algorithms for generalized Bradley–Terry models") and
/// reported on the Elo scale: a gap of 400 points is 10:1 odds of being preferred.
///
/// Every pair of models is credited with `virtualTies` extra comparisons split half and half (a
/// weak prior in the spirit of Bayeselo's virtual draws): it keeps ratings finite when a model never
/// wins or never loses, where the maximum-likelihood fit does not exist, and its pull is negligible
/// once a pair has many real comparisons.
public struct BradleyTerry<Model: Hashable & Comparable & Sendable>: Sendable {
    public let comparisons: [ModelComparison<Model>]
    public let virtualTies: Double
    /// The model rated exactly 1000; nil puts the mean rating at 1000 instead.
    public let anchor: Model?
    /// Every model that appears in `comparisons`, sorted.
    public let models: [Model]
    /// Elo-scale rating of each model.
    public let ratings: [Model: Double]

    public init(comparisons: [ModelComparison<Model>], virtualTies: Double = 1, anchor: Model? = nil) {
        precondition(virtualTies > 0, "virtual ties must be positive, or the fit may not exist")
        self.comparisons = comparisons
        self.virtualTies = virtualTies
        self.anchor = anchor
        models = Set(comparisons.flatMap { [$0.winner, $0.loser] }).sorted()
        ratings = Self.ratings(comparisons, models: models, virtualTies: virtualTies, anchor: anchor)
    }

    static func ratings(_ comparisons: [ModelComparison<Model>], models: [Model], virtualTies: Double, anchor: Model?) -> [Model: Double] {
        let index = Dictionary(uniqueKeysWithValues: models.enumerated().map { ($1, $0) })
        var wins = [[Double]](repeating: [Double](repeating: 0, count: models.count), count: models.count)
        for comparison in comparisons { wins[index[comparison.winner]!][index[comparison.loser]!] += 1 }
        let elo = logStrengths(wins: wins, virtualTies: virtualTies).map { 400 * $0 / log(10) }
        let reference = anchor.map { elo[index[$0]!] } ?? elo.reduce(0, +) / Double(max(elo.count, 1))
        return Dictionary(uniqueKeysWithValues: zip(models, elo.map { $0 - reference + 1000 }))
    }

    /// Natural-log strengths centred on zero. Each MM step sets p_i = W_i / Σ_j n_ij / (p_i + p_j)
    /// (W_i: wins of i, n_ij: comparisons of i and j, virtual ties included), which never lowers
    /// the likelihood.
    private static func logStrengths(wins: [[Double]], virtualTies: Double) -> [Double] {
        let count = wins.count
        guard count >= 2 else { return [Double](repeating: 0, count: count) }
        let totalWins = wins.map { $0.reduce(0, +) + virtualTies * Double(count - 1) / 2 }
        var strengths = [Double](repeating: 1, count: count)
        for _ in 0..<100_000 {
            var updated = strengths
            for i in 0..<count {
                var denominator = 0.0
                for j in 0..<count where j != i {
                    denominator += (wins[i][j] + wins[j][i] + virtualTies) / (strengths[i] + strengths[j])
                }
                updated[i] = totalWins[i] / denominator
            }
            // The likelihood only sees ratios, so fix the scale: geometric mean 1.
            let logs = updated.map(log)
            let mean = logs.reduce(0, +) / Double(count)
            let change = zip(logs, strengths).map { abs($0 - mean - log($1)) }.max()!
            strengths = logs.map { exp($0 - mean) }
            if change < 1e-12 { break }
        }
        return strengths.map(log)
    }
}

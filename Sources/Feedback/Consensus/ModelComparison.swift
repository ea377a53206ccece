/// One comparison between two models: a completion by `winner` was preferred over one by `loser`.
public struct ModelComparison<Model: Hashable & Comparable & Sendable>: Hashable, Sendable {
    public let winner: Model
    public let loser: Model

    public init(winner: Model, loser: Model) {
        self.winner = winner
        self.loser = loser
    }

    /// The model comparisons that preference pairs imply. `model` names the model that wrote a
    /// completion (nil when unknown); pairs within one model say nothing about models and are skipped.
    public static func from<Completion>(_ pairs: [ConsensusPair<Completion>], model: (Completion) -> Model?) -> [ModelComparison] {
        pairs.compactMap { pair in
            guard let winner = model(pair.chosen), let loser = model(pair.rejected), winner != loser else { return nil }
            return ModelComparison(winner: winner, loser: loser)
        }
    }
}

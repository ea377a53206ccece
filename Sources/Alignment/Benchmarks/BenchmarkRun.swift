import Data
import Foundation
import Models

/// What every `bench-align` benchmark is given: the model (and its baseline), the benchmark's data, how much of it
/// to score and in what batches (keys as the flags: `--model`, `--baseline`, `--data`, `--limit`, `--batch-size`,
/// `--seed`).
public struct BenchmarkRun: Codable, Sendable, Equatable {
    public var model = ""
    /// Scored the same way for a before/after table.
    public var baseline: String? = nil
    public var data = ""
    /// Score only the first N items (0 = all).
    public var limit = 0
    /// Sequences per forward pass (or generated per batch).
    public var batchSize: Int
    /// Seed of the bootstrap intervals (and of sampling, where the benchmark samples).
    public var seed: UInt64 = 0

    public init(batchSize: Int) { self.batchSize = batchSize }

    func validate() throws {
        try Check.required(model, "model")
        try Check.required(data, "data")
        try Check.nonNegative(limit, "limit")
        try Check.positive(batchSize, "batch_size")
    }

    /// The first `limit` items (all with 0); none at all is an error naming the data.
    func limited<Item>(_ items: [Item]) throws -> [Item] {
        let kept = limit > 0 ? Array(items.prefix(limit)) : items
        guard !kept.isEmpty else { throw DataError(file: data, line: nil, "no items") }
        return kept
    }

    /// `score` of the model, and of the baseline when there is one.
    func sides<Result>(_ score: (String) throws -> Result) throws -> (model: Result, baseline: Result?) {
        (try score(model), try baseline.map(score))
    }

    /// The log-likelihoods of each item's (context, continuation) pairs under the model `name`, item by item.
    func logLikelihoods<Item>(_ items: [Item], model name: String, progress: (String) -> Void,
                              pairs: (Item) -> [(context: String, continuation: String)]) throws -> [[Double]] {
        let scorer = try ContinuationScorer(directory: try ModelDirectory.locate(name), batchSize: batchSize)
        let requests = items.map(pairs)
        let scores = try scorer.logLikelihoods(requests.flatMap { $0 }) { progress("\(name): \($0)/\($1) answers") }
        var offset = 0
        return requests.map { request in
            defer { offset += request.count }
            return Array(scores[offset..<(offset + request.count)])
        }
    }
}

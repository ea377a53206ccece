import Tensor

/// A training batch for a causal language model: inputs [B, T] and, per position, the next token to
/// predict (or `TokenizedExample.ignoredLabel`).
public struct Batch: Sendable, Equatable {
    public let size: Int
    public let length: Int
    public let ids: [Int]
    /// targets[t] = label of token t + 1: the prediction made at position t.
    public let targets: [Int]
    /// 1 for real tokens, 0 for right padding.
    public let keyMask: [Float]

    public var trainedTokens: Int { targets.filter { $0 != TokenizedExample.ignoredLabel }.count }
    /// Tokens that are not padding (what the model actually processes).
    public var realTokens: Int { Int(keyMask.reduce(0, +)) }

    /// Right-pads `examples` to the longest one.
    public init(_ examples: [TokenizedExample], padID: Int) {
        size = examples.count
        length = examples.map(\.ids.count).max() ?? 0
        var ids: [Int] = [], targets: [Int] = [], mask: [Float] = []
        for example in examples {
            let padding = length - example.ids.count
            ids += example.ids + [Int](repeating: padID, count: padding)
            targets += example.labels.dropFirst() + [Int](repeating: TokenizedExample.ignoredLabel, count: padding + 1)
            mask += [Float](repeating: 1, count: example.ids.count) + [Float](repeating: 0, count: padding)
        }
        (self.ids, self.targets, self.keyMask) = (ids, targets, mask)
    }

    /// Whether any position is padding (attention can then skip the mask).
    public var isPadded: Bool { keyMask.contains(0) }
}

/// Concatenates examples into one stream and cuts it into sequences of exactly `length` tokens (the last,
/// shorter one is dropped). Sequences attend across example boundaries, as in classic packing.
public func packed(_ examples: [TokenizedExample], length: Int) -> [TokenizedExample] {
    let ids = examples.flatMap(\.ids), labels = examples.flatMap(\.labels)
    return stride(from: 0, to: ids.count - length + 1, by: length).map {
        TokenizedExample(ids: Array(ids[$0..<($0 + length)]), labels: Array(labels[$0..<($0 + length)]))
    }
}

/// The order examples are visited in: epoch by epoch, each epoch shuffled by its own seed (or file order),
/// so step `n` is the same batch whether or not the run was interrupted before it.
public struct BatchSchedule: Sendable {
    public let exampleCount: Int
    public let batchSize: Int
    public let seed: UInt64
    public let shuffle: Bool

    public init(exampleCount: Int, batchSize: Int, seed: UInt64, shuffle: Bool) {
        (self.exampleCount, self.batchSize, self.seed, self.shuffle) = (exampleCount, batchSize, seed, shuffle)
    }

    /// Batches per epoch (the last may be smaller).
    public var batchesPerEpoch: Int { (exampleCount + batchSize - 1) / batchSize }

    /// Example indices of the `index`-th batch since the start of training.
    public func batch(_ index: Int) -> [Int] {
        let (epoch, position) = index.quotientAndRemainder(dividingBy: batchesPerEpoch)
        let order = self.order(epoch: epoch)
        return Array(order[(position * batchSize)..<min(exampleCount, (position + 1) * batchSize)])
    }

    func order(epoch: Int) -> [Int] {
        var indices = Array(0..<exampleCount)
        guard shuffle else { return indices }
        var generator = SeededGenerator(seed: seed &+ UInt64(epoch) &* 0x9E37_79B9_7F4A_7C15)
        indices.shuffle(using: &generator)
        return indices
    }
}

/// Holds out a seeded random `fraction` of `items` for evaluation; both parts keep their original order.
public func heldOut<Item>(_ items: [Item], fraction: Double, seed: UInt64) -> (train: [Item], eval: [Item]) {
    var order = Array(items.indices)
    var generator = SeededGenerator(seed: seed)
    order.shuffle(using: &generator)
    let held = Set(order.prefix(Int((Double(items.count) * fraction).rounded())))
    return (items.indices.filter { !held.contains($0) }.map { items[$0] }, items.indices.filter { held.contains($0) }.map { items[$0] })
}

/// One rank's part of every batch in a data-parallel job: part `index` of `count` contiguous parts whose sizes
/// differ by at most one, so the parts together are the batch one process would take.
public struct Shard: Sendable, Equatable {
    public let index: Int
    public let count: Int

    public init(index: Int, count: Int) { (self.index, self.count) = (index, count) }

    /// The whole batch: a job of one process.
    public static let whole = Shard(index: 0, count: 1)

    public func part<Item>(of batch: [Item]) -> [Item] { Array(batch[rows(of: batch.count)]) }

    /// This part's rows of a batch of `size`.
    public func rows(of size: Int) -> Range<Int> { (index * size / count)..<((index + 1) * size / count) }

    /// Why some rank would get no examples of one of the first `microBatches` batches of `batchSize` (each epoch's
    /// last batch holding what is left of `examples`), or nil when every one reaches every rank.
    public func emptyPartReason(examples: Int, batchSize: Int, microBatches: Int) -> String? {
        if min(batchSize, examples) < count { return "a batch of \(min(batchSize, examples)) examples cannot be split over \(count) ranks" }
        let last = examples % batchSize, perEpoch = (examples + batchSize - 1) / batchSize
        if last > 0, last < count, microBatches >= perEpoch {
            return "the last batch of each epoch holds \(last) of the \(examples) examples, too few for \(count) ranks"
        }
        return nil
    }
}

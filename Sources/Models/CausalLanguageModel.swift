import NN
import Tensor

/// A decoder-only language model: token ids in, next-token logits out.
public protocol CausalLanguageModel: LanguageModel {
    var config: ModelConfig { get }
    var vocabularySize: Int { get }
    var layerCount: Int { get }
    /// Width of one layer's cached keys (kv heads × head dim).
    var kvWidth: Int { get }

    /// Hidden states after the final norm, [B, T, width], for `ids` laid out as [B, T].
    func transform(_ ids: [Int], batch: Int, length: Int, context: AttentionContext) throws -> Tensor
    /// Next-token logits [..., vocabulary] from final hidden states.
    func languageModelHead(_ hidden: Tensor) throws -> Tensor
}

extension CausalLanguageModel {
    /// Longest sequence the model can place (learned position tables), nil when unbounded: its config's.
    public var maxPositions: Int? { config.maxPositions }

    /// Final hidden states; with a cache in `context`, stores this step's keys and values in it.
    public func hiddenStates(_ ids: [Int], batch: Int, length: Int, context: AttentionContext) throws -> Tensor {
        guard ids.count == batch * length, context.positions.count == ids.count else {
            throw ModelError.generation("\(ids.count) ids and \(context.positions.count) positions for a \(batch) × \(length) batch")
        }
        if let bad = ids.first(where: { $0 < 0 || $0 >= vocabularySize }) {
            throw TensorError.indexOutOfRange(op: "token id", index: bad, bound: vocabularySize)
        }
        if let maxPositions, let far = context.positions.max(), far >= maxPositions {
            throw ModelError.generation("position \(far) is past the model's \(maxPositions) positions")
        }
        let hidden = try transform(ids, batch: batch, length: length, context: context)
        context.cache?.advance(by: length)
        return hidden
    }

    /// Next-token logits [B, T, vocabulary].
    public func logits(_ ids: [Int], batch: Int, length: Int, context: AttentionContext) throws -> Tensor {
        try languageModelHead(hiddenStates(ids, batch: batch, length: length, context: context))
    }

    /// A cache sized for `capacity` positions of `batch` sequences.
    public func makeCache(batch: Int, capacity: Int) -> KVCache {
        KVCache(layers: layerCount, batch: batch, capacity: capacity, kvWidth: kvWidth)
    }
}

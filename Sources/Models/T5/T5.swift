import Foundation
import NN
import Tensor

/// transformers' `T5ForConditionalGeneration` (T5 v1.0, v1.1, FLAN-T5): an encoder over the input, a decoder that
/// attends to itself causally and to the encoder's states, both with relative position buckets; the LM head is
/// the shared embedding (scaled by d_model^-½, v1.0) or its own `lm_head` (v1.1).
public final class T5: AdaptableModule {
    public let config: T5Config
    /// All config.json fields as read, written back on save.
    public let fields: [String: JSONValue]
    let shared: Embedding
    let encoderBlocks: [T5Block], encoderNorm: RMSNorm
    let decoderBlocks: [T5Block], decoderNorm: RMSNorm
    let head: Linear?

    public init(config: T5Config, fields: [String: JSONValue], initializer: inout WeightInitializer, path: String) throws {
        try config.validate(path: path)
        (self.config, self.fields) = (config, fields)
        let activation = try config.activation(path: path)
        shared = Embedding(config.vocabSize, config.dModel, std: config.initializerFactor ?? 1, initializer: &initializer)
        var encoderBias: T5PositionBias? = T5PositionBias(config, bidirectional: true, initializer: &initializer)
        encoderBlocks = (0..<config.numLayers).map { _ in
            defer { encoderBias = nil }
            return T5Block(config, decoder: false, positionBias: encoderBias, activation: activation, initializer: &initializer)
        }
        var decoderBias: T5PositionBias? = T5PositionBias(config, bidirectional: false, initializer: &initializer)
        decoderBlocks = (0..<config.decoderLayers).map { _ in
            defer { decoderBias = nil }
            return T5Block(config, decoder: true, positionBias: decoderBias, activation: activation, initializer: &initializer)
        }
        encoderNorm = RMSNorm(config.dModel, eps: config.epsilon)
        decoderNorm = RMSNorm(config.dModel, eps: config.epsilon)
        head = config.tied ? nil : Linear(config.dModel, config.vocabSize, bias: false, std: config.initializerFactor ?? 1, initializer: &initializer)
    }

    public var vocabularySize: Int { config.vocabSize }

    /// The encoder's final states [B, T, d_model] of `ids` laid out [B, T]; `keyMask` holds 1 for real tokens.
    public func encode(_ ids: [Int], batch: Int, length: Int, keyMask: [Float]) throws -> Tensor {
        try checkIDs(ids, count: batch * length)
        let mask = keyMask.contains(0) ? keyMask : nil
        let bias = try encoderBlocks[0].selfAttention.positionBias!(first: 0, queries: length, keys: length)
        var h = try shared(ids, shape: [batch, length])
        for block in encoderBlocks {
            h = try h + block.selfAttention.selfAttention(block.selfNorm(h), bias: bias, causal: false, keyMask: mask, cache: nil, layer: 0)
            h = try h + block.feedForward(block.feedForwardNorm(h))
        }
        return try encoderNorm(h)
    }

    /// The decoder's final states [B, T, d_model] for decoder inputs `ids` [B, T] over `encoded` (from `encode`).
    /// With a `cache` (generation), the new tokens follow the ones already cached and their keys are stored.
    public func decode(_ ids: [Int], batch: Int, length: Int, encoded: T5EncoderOutput, cache: KVCache? = nil) throws -> Tensor {
        try checkIDs(ids, count: batch * length)
        let first = cache?.length ?? 0
        let bias = try decoderBlocks[0].selfAttention.positionBias!(first: first, queries: length, keys: first + length)
        var h = try shared(ids, shape: [batch, length])
        for (layer, block) in decoderBlocks.enumerated() {
            h = try h + block.selfAttention.selfAttention(block.selfNorm(h), bias: bias, causal: true, keyMask: nil, cache: cache, layer: layer)
            let (keys, values) = try encoded.keysAndValues(layer: layer, of: self)
            h = try h + block.crossAttention!.crossAttention(block.crossNorm!(h), keys: keys, values: values, keyMask: encoded.keyMask)
            h = try h + block.feedForward(block.feedForwardNorm(h))
        }
        cache?.advance(by: length)
        return try decoderNorm(h)
    }

    /// Logits [..., vocabulary] from decoder states.
    public func languageModelHead(_ hidden: Tensor) throws -> Tensor {
        guard let head else {
            return try Tensor.linear(hidden * (1 / Float(config.dModel).squareRoot()), weight: shared.weight.value)
        }
        return try head(hidden)
    }

    /// Logits [B, Tdec, vocabulary] of decoder inputs given encoder inputs (teacher forcing, as in training).
    public func logits(inputs: [Int], inputMask: [Float], batch: Int, inputLength: Int, decoderInputs: [Int], decoderLength: Int) throws -> Tensor {
        let encoded = try T5EncoderOutput(states: encode(inputs, batch: batch, length: inputLength, keyMask: inputMask), keyMask: inputMask)
        return try languageModelHead(decode(decoderInputs, batch: batch, length: decoderLength, encoded: encoded))
    }

    /// A decoder self-attention cache for `batch` rows of up to `capacity` tokens.
    public func makeDecoderCache(batch: Int, capacity: Int) -> KVCache {
        KVCache(layers: config.decoderLayers, batch: batch, capacity: capacity, kvWidth: config.numHeads * config.dKv)
    }

    private func checkIDs(_ ids: [Int], count: Int) throws {
        guard ids.count == count else { throw ModelError.generation("\(ids.count) ids for \(count) positions") }
        if let bad = ids.first(where: { $0 < 0 || $0 >= config.vocabSize }) {
            throw TensorError.indexOutOfRange(op: "token id", index: bad, bound: config.vocabSize)
        }
    }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        var children = [("shared", shared.namedParameters)]
        children += encoderBlocks.enumerated().map { ("encoder.block.\($0.offset)", $0.element.namedParameters) }
        children.append(("encoder.final_layer_norm", encoderNorm.namedParameters))
        children += decoderBlocks.enumerated().map { ("decoder.block.\($0.offset)", $0.element.namedParameters) }
        children.append(("decoder.final_layer_norm", decoderNorm.namedParameters))
        if let head { children.append(("lm_head", head.namedParameters)) }
        return namespaced(children)
    }

    public var namedLinears: [(name: String, linear: Linear)] {
        namespacedLinears(encoderBlocks.enumerated().map { ("encoder.block.\($0.offset)", $0.element.namedLinears) }
                          + decoderBlocks.enumerated().map { ("decoder.block.\($0.offset)", $0.element.namedLinears) })
    }
}

/// The encoder's states and padding, with each decoder layer's projection of them into keys and values made once
/// (generation reuses them at every step).
public final class T5EncoderOutput {
    public let states: Tensor
    public let keyMask: [Float]?
    private var projected: [Int: (Tensor, Tensor)] = [:]

    public init(states: Tensor, keyMask: [Float]) {
        self.states = states
        self.keyMask = keyMask.contains(0) ? keyMask : nil
    }

    func keysAndValues(layer: Int, of model: T5) throws -> (Tensor, Tensor) {
        if let done = projected[layer] { return done }
        let attention = model.decoderBlocks[layer].crossAttention!
        let pair = (try attention.key(states), try attention.value(states))
        // Only kept without a gradient: in training each forward pass projects afresh.
        if !states.requiresGrad { projected[layer] = pair }
        return pair
    }
}

extension ModelDirectory {
    /// A T5 / FLAN-T5 `T5ForConditionalGeneration` directory, every weight checked as `load` does.
    public static func loadT5(_ directory: URL) throws -> T5 {
        guard let (config, fields) = try T5Config.load(directory: directory) else {
            throw ModelError.unsupported(path: directory.appendingPathComponent("config.json").path, "not a T5 model")
        }
        var initializer = WeightInitializer.zeros
        let model = try T5(config: config, fields: fields, initializer: &initializer, path: directory.appendingPathComponent("config.json").path)
        // Tied checkpoints may also carry the embedding under the stacks' names, and a tied head's copy.
        let copies = Set(["encoder.embed_tokens.weight", "decoder.embed_tokens.weight"] + (config.tied ? ["lm_head.weight"] : []))
        try assignWeights(model.namedParameters, from: try SafetensorsCheckpoint(directory: directory), path: directory.path, ignoring: copies)
        return model
    }

    /// Writes a T5 model so transformers loads it with `T5ForConditionalGeneration`.
    public static func save(_ model: T5, to directory: URL) throws {
        try save(model.namedParameters, fields: model.fields, to: directory)
    }
}

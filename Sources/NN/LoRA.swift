import Tensor

/// A LoRA adapter on one linear layer (Hu et al. 2021, as PEFT implements it): the layer's output gains
/// (dropout(x)·Aᵀ·Bᵀ)·alpha/r, with A [r, in] and B [out, r] trained while the base weight stays frozen.
/// A starts as PEFT's kaiming-uniform (a = √5, i.e. U(−1/√in, 1/√in)) and B at zero, so a new adapter
/// changes nothing until it is trained.
public final class LoRAAdapter: Module {
    /// `lora_A.weight`, [r, in].
    public let a: Parameter
    /// `lora_B.weight`, [out, r].
    public let b: Parameter
    /// alpha / r.
    public let scaling: Float
    public let dropout: Float
    /// Dropout applies only while this is set and gradients are being recorded: evaluation, generation
    /// and merging see the deterministic update.
    public var isTraining = true
    /// Off: the layer computes its base output alone (the frozen reference in LoRA-mode PPO).
    public var isEnabled = true
    var dropoutGenerator: SeededGenerator

    public init(inFeatures: Int, outFeatures: Int, rank: Int, alpha: Float, dropout: Float,
                generator: inout SeededGenerator) {
        let bound = 1 / Float(inFeatures).squareRoot()
        a = Parameter(Tensor.uniform([rank, inFeatures], in: -bound...bound, using: &generator))
        b = Parameter(Tensor.zeros([outFeatures, rank]))
        scaling = alpha / Float(rank)
        self.dropout = dropout
        dropoutGenerator = SeededGenerator(seed: generator.next())
    }

    public var rank: Int { a.value.shape[0] }

    /// For inference over a batch whose rows belong to different users: each batch row's own (A, B), or nil for
    /// none (the base alone). Set, it replaces `a` and `b`; the leading axis of the input is batch × positions.
    public var rowWeights: [(a: Tensor, b: Tensor)?]?

    /// The update added to the layer's output. Scaling the r-wide intermediate instead of the output is
    /// the same product and touches r/out as many values.
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        if let rowWeights { return try perRowUpdate(x, rowWeights) }
        let dropped = try isTraining && GradMode.isEnabled ? x.dropout(probability: dropout, generator: &dropoutGenerator) : x
        return try Tensor.linear(try Tensor.linear(dropped, weight: a.value) * scaling, weight: b.value)
    }

    /// Runs of consecutive batch rows sharing one adapter go through it in one product; rows without one get zeros.
    private func perRowUpdate(_ x: Tensor, _ rows: [(a: Tensor, b: Tensor)?]) throws -> Tensor {
        guard !GradMode.isEnabled else { throw TensorError.invalidArgument(op: "LoRA", "per-row adapters are for inference only") }
        let inFeatures = x.shape.last!, outFeatures = b.value.shape[0]
        let flat = try x.reshaped([x.count / inFeatures, inFeatures])
        guard flat.shape[0] % rows.count == 0 else {
            throw TensorError.shapeMismatch(op: "LoRA", "\(flat.shape[0]) input rows for \(rows.count) batch rows")
        }
        let positions = flat.shape[0] / rows.count
        var pieces: [Tensor] = []
        var start = 0
        while start < rows.count {
            var end = start + 1
            while end < rows.count, Self.same(rows[end], rows[start]) { end += 1 }
            let range = (start * positions)..<(end * positions)
            if let weights = rows[start] {
                pieces.append(try Tensor.linear(try Tensor.linear(try flat.slice(axis: 0, range), weight: weights.a) * scaling, weight: weights.b))
            } else {
                pieces.append(Tensor.zeros([range.count, outFeatures]))
            }
            start = end
        }
        return try Tensor.concat(pieces, axis: 0).reshaped(Array(x.shape.dropLast()) + [outFeatures])
    }

    private static func same(_ x: (a: Tensor, b: Tensor)?, _ y: (a: Tensor, b: Tensor)?) -> Bool {
        switch (x, y) {
        case (nil, nil): return true
        case let (x?, y?): return x.a.sharesStorage(with: y.a) && x.b.sharesStorage(with: y.b)
        default: return false
        }
    }

    /// scaling·B·A laid out like the base weight: [out, in].
    public func weightDelta() throws -> Tensor {
        try withNoGrad { try Tensor.matmul(b.value, a.value) * scaling }
    }

    public var namedParameters: [(name: String, parameter: Parameter)] { [("lora_A.weight", a), ("lora_B.weight", b)] }
}

/// A module that lists its linear layers under their Hugging Face module paths (`transformer.h.0.attn.c_attn`),
/// so adapters are attached by name without reflection.
public protocol AdaptableModule: Module {
    var namedLinears: [(name: String, linear: Linear)] { get }
}

/// Joins child linear-layer lists under their path prefixes (`prefix.name`).
public func namespacedLinears(_ children: [(String, [(name: String, linear: Linear)])]) -> [(name: String, linear: Linear)] {
    children.flatMap { prefix, list in list.map { ("\(prefix).\($0.name)", $0.linear) } }
}

/// Attaches a LoRA adapter to every linear layer whose module path is a target or ends with `.target` (PEFT's
/// `target_modules` rule: `q_proj` adapts every layer's q_proj, `attn.c_proj` only attention's), and freezes
/// every base parameter of the model, embeddings and norms included. A target matching no layer fails,
/// naming the layers the model has.
public func attachLoRA(to model: any AdaptableModule, rank: Int, alpha: Float, dropout: Float = 0, targets: [String],
                       seed: UInt64) throws -> LoRAAdapters {
    guard rank > 0, alpha > 0, dropout >= 0, dropout < 1 else {
        throw TensorError.invalidArgument(op: "LoRA", "rank \(rank) and alpha \(alpha) must be positive, dropout \(dropout) in [0, 1)")
    }
    let linears = model.namedLinears
    func matches(_ path: String, _ target: String) -> Bool { path == target || path.hasSuffix("." + target) }
    let unknown = targets.filter { target in !linears.contains { matches($0.name, target) } }
    guard !targets.isEmpty, unknown.isEmpty else {
        var available: [String] = []
        for (path, _) in linears {
            let name = String(path.split(separator: ".").last!)
            if !available.contains(name) { available.append(name) }
        }
        let problem = targets.isEmpty ? "no target modules given" : "target modules \(unknown) match no linear layer of the model"
        throw TensorError.invalidArgument(op: "LoRA", "\(problem); its linear layers are named \(available.joined(separator: ", "))")
    }
    if let adapted = linears.first(where: { $0.linear.adapter != nil }) {
        throw TensorError.invalidArgument(op: "LoRA", "\(adapted.name) already carries an adapter")
    }
    // A rank above a layer's smaller side adds parameters and no expressiveness (and a huge one would not fit).
    let targeted = linears.filter { path, _ in targets.contains { matches(path, $0) } }
    if let narrowest = targeted.map({ $0.linear.weight.value.shape.min()! }).min(), rank > narrowest {
        throw TensorError.invalidArgument(op: "LoRA", "rank \(rank) is above the targeted layers' smallest dimension (\(narrowest))")
    }
    model.setTrainable(false)
    var generator = SeededGenerator(seed: seed)
    let layers = targeted.map { path, linear in
        let (inFeatures, outFeatures) = (linear.weight.value.shape[1], linear.weight.value.shape[0])
        let adapter = LoRAAdapter(inFeatures: inFeatures, outFeatures: outFeatures, rank: rank, alpha: alpha,
                                  dropout: dropout, generator: &generator)
        linear.adapter = adapter
        return LoRAAdapters.Layer(path: path, linear: linear, adapter: adapter)
    }
    return LoRAAdapters(layers: layers, rank: rank, alpha: alpha, dropout: dropout, targets: targets, seed: seed)
}

/// The adapters attached to one model: what the optimizer trains, what a PEFT adapter directory stores, and
/// what `merge()` folds into the base weights.
public final class LoRAAdapters: Module {
    public struct Layer {
        /// Module path in the model, e.g. `model.layers.0.self_attn.q_proj`.
        public let path: String
        public let linear: Linear
        public let adapter: LoRAAdapter
    }

    public let layers: [Layer]
    public let rank: Int
    public let alpha: Float
    public let dropout: Float
    /// PEFT's `target_modules`: the names the adapters were attached by.
    public var targets: [String]
    /// PEFT's `base_model_name_or_path`, recorded in saved adapters.
    public var baseModel = ""
    /// PEFT's `task_type` (CAUSAL_LM, SEQ_2_SEQ_LM or SEQ_CLS), recorded in saved adapters.
    public var taskType = "CAUSAL_LM"
    private let seed: UInt64

    init(layers: [Layer], rank: Int, alpha: Float, dropout: Float, targets: [String], seed: UInt64) {
        (self.layers, self.rank, self.alpha, self.dropout, self.targets, self.seed) = (layers, rank, alpha, dropout, targets, seed)
    }

    /// PEFT's state-dict names without its `base_model.model.` prefix: `<path>.lora_A.weight`, `<path>.lora_B.weight`.
    public var namedParameters: [(name: String, parameter: Parameter)] {
        namespaced(layers.map { ($0.path, $0.adapter.namedParameters) })
    }

    /// Dropout on (training) or off (inference) for every adapter.
    public var isTraining: Bool {
        get { layers.contains { $0.adapter.isTraining } }
        set { for layer in layers { layer.adapter.isTraining = newValue } }
    }

    /// Runs `body` with every adapter switched off: the base model, e.g. as PPO's frozen reference.
    public func withAdaptersDisabled<T>(_ body: () throws -> T) rethrows -> T {
        for layer in layers { layer.adapter.isEnabled = false }
        defer { for layer in layers { layer.adapter.isEnabled = true } }
        return try body()
    }

    /// Runs `body` with the adapters' weights replaced by `weights` (in `namedParameters` order), then puts the
    /// current ones back: e.g. PPO's frozen reference when the policy started from a trained adapter.
    public func withWeights<T>(_ weights: [Tensor], _ body: () throws -> T) throws -> T {
        let parameters = namedParameters.map(\.parameter)
        let current = parameters.map(\.value)
        for (parameter, value) in zip(parameters, weights) { try parameter.assign(value) }
        defer { for (parameter, value) in zip(parameters, current) { try? parameter.assign(value) } }
        return try body()
    }

    /// Draws the dropout masks from the micro-batch index alone, so a resumed run drops exactly what an
    /// uninterrupted one would have.
    public func reseedDropout(microBatch: Int) {
        var indexHash = SeededGenerator(seed: UInt64(microBatch))
        var streams = SeededGenerator(seed: seed ^ indexHash.next())
        for layer in layers { layer.adapter.dropoutGenerator = SeededGenerator(seed: streams.next()) }
    }

    /// Runs `body` with batch row i using `rows[i]` (weights in `namedParameters` order, nil: the base alone): one
    /// forward pass for several users' adapters on one base.
    public func withRowWeights<T>(_ rows: [[Tensor]?], _ body: () throws -> T) throws -> T {
        for (index, layer) in layers.enumerated() {
            layer.adapter.rowWeights = rows.map { weights in weights.map { ($0[2 * index], $0[2 * index + 1]) } }
        }
        defer { for layer in layers { layer.adapter.rowWeights = nil } }
        return try body()
    }

    /// Folds every adapter into its layer (W += scaling·B·A) and detaches it, leaving a plain model whose
    /// `namedParameters` are the merged weights. The adapters are not used afterwards.
    public func merge() throws {
        for layer in layers {
            let delta = try layer.adapter.weightDelta()
            try layer.linear.weight.assign(try withNoGrad { try layer.linear.weight.value + delta })
            layer.linear.adapter = nil
        }
    }
}

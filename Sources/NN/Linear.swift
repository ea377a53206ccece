import Tensor

/// y = x·Wᵀ + b with W held [out, in]. A `conv1D` layer (GPT-2's Conv1D) is the same layer whose checkpoints hold W
/// as [in, out]: its weight is transposed on the way in and out of files, so one matrix-product path serves every
/// model (and batched decoding streams weight rows, `BLAS.sgemm`). With a LoRA `adapter`, its low-rank update is
/// added to y; `namedParameters` still lists only the base weights (adapters are saved on their own, see
/// `LoRAAdapters`).
public final class Linear: Module {
    public let weight: Parameter
    public let bias: Parameter?
    public var adapter: LoRAAdapter?

    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, conv1D: Bool = false,
                std: Float = 0.02, initializer: inout WeightInitializer) {
        // A Conv1D layer draws its initial values in its file layout, so a seed gives the same model as before.
        let drawn = initializer.normal(conv1D ? [inFeatures, outFeatures] : [outFeatures, inFeatures], std: std)
        weight = Parameter(conv1D ? try! drawn.transposed() : drawn, isTransposedInFiles: conv1D)
        self.bias = bias ? Parameter(Tensor.zeros([outFeatures]), appliesWeightDecay: false) : nil
    }

    /// True for GPT-2's Conv1D (PEFT's `fan_in_fan_out`).
    public var isConv1D: Bool { weight.isTransposedInFiles }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        let y = try Tensor.linear(x, weight: weight.value, bias: bias?.value)
        guard let adapter, adapter.isEnabled else { return y }
        return try y + adapter(x)
    }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }
}

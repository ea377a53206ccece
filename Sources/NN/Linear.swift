import Tensor

/// y = x·Wᵀ + b. `inputMajor` stores W as [in, out] (GPT-2's Conv1D) instead of torch's [out, in].
/// With a LoRA `adapter`, its low-rank update is added to y; `namedParameters` still lists only the base
/// weights (adapters are saved on their own, see `LoRAAdapters`).
public final class Linear: Module {
    public let weight: Parameter
    public let bias: Parameter?
    public let inputMajor: Bool
    public var adapter: LoRAAdapter?

    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, inputMajor: Bool = false,
                                          std: Float = 0.02, initializer: inout WeightInitializer) {
        let shape = inputMajor ? [inFeatures, outFeatures] : [outFeatures, inFeatures]
        weight = Parameter(initializer.normal(shape, std: std))
        self.bias = bias ? Parameter(Tensor.zeros([outFeatures]), appliesWeightDecay: false) : nil
        self.inputMajor = inputMajor
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        let y = try Tensor.linear(x, weight: weight.value, bias: bias?.value, weightIsInputMajor: inputMajor)
        guard let adapter, adapter.isEnabled else { return y }
        return try y + adapter(x)
    }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }
}

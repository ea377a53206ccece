import Tensor

/// y = x·Wᵀ + b. `inputMajor` stores W as [in, out] (GPT-2's Conv1D) instead of torch's [out, in].
public final class Linear: Module {
    public let weight: Parameter
    public let bias: Parameter?
    public let inputMajor: Bool

    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, inputMajor: Bool = false,
                                          std: Float = 0.02, initializer: inout WeightInitializer) {
        let shape = inputMajor ? [inFeatures, outFeatures] : [outFeatures, inFeatures]
        weight = Parameter(initializer.normal(shape, std: std))
        self.bias = bias ? Parameter(Tensor.zeros([outFeatures]), appliesWeightDecay: false) : nil
        self.inputMajor = inputMajor
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        try Tensor.linear(x, weight: weight.value, bias: bias?.value, weightIsInputMajor: inputMajor)
    }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }
}

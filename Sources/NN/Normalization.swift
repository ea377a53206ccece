import Tensor

/// LayerNorm over the last axis with a gain and an optional bias.
public final class LayerNorm: Module {
    public let weight: Parameter
    public let bias: Parameter?
    public let eps: Float

    public init(_ width: Int, bias: Bool = true, eps: Float = 1e-5) {
        weight = Parameter(Tensor.ones([width]), appliesWeightDecay: false)
        self.bias = bias ? Parameter(Tensor.zeros([width]), appliesWeightDecay: false) : nil
        self.eps = eps
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        try x.layerNorm(weight: weight.value, bias: bias?.value, eps: eps)
    }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }
}

/// RMSNorm over the last axis (Llama family).
public final class RMSNorm: Module {
    public let weight: Parameter
    public let eps: Float

    public init(_ width: Int, eps: Float = 1e-6) {
        weight = Parameter(Tensor.ones([width]), appliesWeightDecay: false)
        self.eps = eps
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor { try x.rmsNorm(weight: weight.value, eps: eps) }

    public var namedParameters: [(name: String, parameter: Parameter)] { [("weight", weight)] }
}

import Tensor

/// Two-layer GELU MLP (GPT-2's `c_fc` → GELU → `c_proj`, Conv1D layout).
public final class GELUMLP: AdaptableModule {
    public let up: Linear
    public let down: Linear
    public let approximation: Tensor.GELUApproximation

    public init(width: Int, hidden: Int, approximation: Tensor.GELUApproximation = .tanh, std: Float = 0.02,
                initializer: inout WeightInitializer) {
        up = Linear(width, hidden, conv1D: true, std: std, initializer: &initializer)
        down = Linear(hidden, width, conv1D: true, std: std, initializer: &initializer)
        self.approximation = approximation
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor { try down(try up(x).gelu(approximation)) }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        namespaced(("c_fc", up.namedParameters), ("c_proj", down.namedParameters))
    }

    public var namedLinears: [(name: String, linear: Linear)] { [("c_fc", up), ("c_proj", down)] }
}

/// Llama's gated MLP: down(silu(gate(x)) · up(x)).
public final class SwiGLUMLP: AdaptableModule {
    public let gate: Linear, up: Linear, down: Linear

    public init(width: Int, hidden: Int, bias: Bool = false, std: Float = 0.02, initializer: inout WeightInitializer) {
        gate = Linear(width, hidden, bias: bias, std: std, initializer: &initializer)
        up = Linear(width, hidden, bias: bias, std: std, initializer: &initializer)
        down = Linear(hidden, width, bias: bias, std: std, initializer: &initializer)
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor { try down(try gate(x).silu() * up(x)) }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        namespaced(("gate_proj", gate.namedParameters), ("up_proj", up.namedParameters), ("down_proj", down.namedParameters))
    }

    public var namedLinears: [(name: String, linear: Linear)] { [("gate_proj", gate), ("up_proj", up), ("down_proj", down)] }
}

/// Updates parameters from their accumulated gradients.
public protocol Optimizer: AnyObject {
    var parameters: [Parameter] { get }
    var learningRate: Float { get set }
    /// Applies one update with the current gradients (parameters without a gradient are skipped).
    func step() throws
    /// The optimizer's per-parameter state as tensors named `<parameter name>.<field>`, laid out as the parameters'
    /// files hold them (`Parameter.fileLayout`), for checkpoints.
    func stateTensors(_ named: [(name: String, parameter: Parameter)]) throws -> [(name: String, tensor: Tensor)]
    /// Restores what `stateTensors` saved; parameters with no saved state start fresh.
    func restoreState(_ tensors: [String: Tensor], _ named: [(name: String, parameter: Parameter)]) throws
}

extension Optimizer {
    public func zeroGrad() { for p in parameters { p.zeroGrad() } }
}

/// Rescales all gradients together so their global L2 norm is at most `maxNorm` (torch's
/// `clip_grad_norm_`). Returns the norm before clipping.
@discardableResult
public func clipGradientNorm(_ parameters: [Parameter], maxNorm: Float) -> Float {
    var total: Double = 0
    for p in parameters {
        guard let g = p.grad else { continue }
        g.withUnsafeBufferPointer { for x in $0 { total += Double(x) * Double(x) } }
    }
    let norm = Float(total.squareRoot())
    let coefficient = maxNorm / (norm + 1e-6)
    if coefficient < 1 {
        for p in parameters {
            p.withMutableGradient { for i in $0.indices { $0[i] *= coefficient } }
        }
    }
    return norm
}

/// Elementwise parameter update split across cores: `body(value, grad, range)`.
func updateInPlace(_ parameter: Parameter, _ body: (UnsafeMutablePointer<Float>, UnsafePointer<Float>, Range<Int>) -> Void) {
    guard let grad = parameter.grad else { return }
    parameter.value.withUnsafeMutableBufferPointer { value in
        let (v, g) = (value.baseAddress!, grad.data)
        withExtendedLifetime(grad) {
            Parallel.forChunks(value.count, grain: Parallel.minimumWork) { range in body(v, g, range) }
        }
    }
}

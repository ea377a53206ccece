import Foundation

/// Adam with decoupled weight decay and bias correction, step for step as torch.optim.AdamW.
public final class AdamW: Optimizer {
    public let parameters: [Parameter]
    public var learningRate: Float
    public let beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float
    /// First and second moments and the number of updates, per parameter (as torch counts them: a step
    /// without a gradient does not count), allocated on a parameter's first update.
    private var state: [ObjectIdentifier: (m: Tensor, v: Tensor, steps: Int)] = [:]

    public init(parameters: [Parameter], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                epsilon: Float = 1e-8, weightDecay: Float = 0.01) {
        self.parameters = parameters
        self.learningRate = learningRate
        (self.beta1, self.beta2, self.epsilon, self.weightDecay) = (beta1, beta2, epsilon, weightDecay)
    }

    public func step() throws {
        let (lr, b1, b2, eps) = (learningRate, beta1, beta2, epsilon)
        for parameter in parameters where parameter.grad != nil {
            let id = ObjectIdentifier(parameter)
            var current = state[id] ?? (Tensor.zeros(parameter.value.shape), Tensor.zeros(parameter.value.shape), 0)
            current.steps += 1
            state[id] = current
            let correction1 = 1 - Foundation.pow(b1, Float(current.steps))
            let correction2 = 1 - Foundation.pow(b2, Float(current.steps))
            let (m, v) = (current.m.data, current.v.data)
            let decay = parameter.appliesWeightDecay ? 1 - lr * weightDecay : 1
            updateInPlace(parameter) { p, g, range in
                for i in range {
                    p[i] *= decay
                    m[i] = b1 * m[i] + (1 - b1) * g[i]
                    v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i]
                    p[i] -= lr * (m[i] / correction1) / ((v[i] / correction2).squareRoot() + eps)
                }
            }
        }
    }

    public func stateTensors(_ named: [(name: String, parameter: Parameter)]) throws -> [(name: String, tensor: Tensor)] {
        try named.flatMap { name, parameter -> [(name: String, tensor: Tensor)] in
            guard let state = state[ObjectIdentifier(parameter)] else { return [] }
            return [("\(name).exp_avg", try parameter.fileLayout(state.m)), ("\(name).exp_avg_sq", try parameter.fileLayout(state.v)),
                    ("\(name).step", Tensor(Float(state.steps)))]
        }
    }

    public func restoreState(_ tensors: [String: Tensor], _ named: [(name: String, parameter: Parameter)]) throws {
        for (name, parameter) in named {
            guard let m = try tensors["\(name).exp_avg"].map(parameter.fromFileLayout),
                  let v = try tensors["\(name).exp_avg_sq"].map(parameter.fromFileLayout), let steps = tensors["\(name).step"] else { continue }
            guard m.shape == parameter.value.shape, v.shape == parameter.value.shape else {
                throw TensorError.shapeMismatch(op: "AdamW.restoreState", "\(name): moments \(m.shape), parameter \(parameter.value.shape)")
            }
            state[ObjectIdentifier(parameter)] = (m, v, Int(try steps.item))
        }
    }
}

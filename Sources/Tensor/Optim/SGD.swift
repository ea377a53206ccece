/// Stochastic gradient descent with optional momentum and (coupled, L2) weight decay, as torch.optim.SGD.
public final class SGD: Optimizer {
    public let parameters: [Parameter]
    public var learningRate: Float
    public let momentum: Float, weightDecay: Float
    private var velocity: [ObjectIdentifier: Tensor] = [:]

    public init(parameters: [Parameter], learningRate: Float, momentum: Float = 0, weightDecay: Float = 0) {
        self.parameters = parameters
        self.learningRate = learningRate
        (self.momentum, self.weightDecay) = (momentum, weightDecay)
    }

    public func step() throws {
        let (lr, mu) = (learningRate, momentum)
        for parameter in parameters where parameter.grad != nil {
            let wd = parameter.appliesWeightDecay ? weightDecay : 0
            if mu == 0 {
                updateInPlace(parameter) { p, g, range in
                    for i in range { p[i] -= lr * (g[i] + wd * p[i]) }
                }
                continue
            }
            let id = ObjectIdentifier(parameter)
            let isFirst = velocity[id] == nil
            let buffer = velocity[id] ?? Tensor.zeros(parameter.value.shape)
            velocity[id] = buffer
            let b = buffer.data
            updateInPlace(parameter) { p, g, range in
                for i in range {
                    let d = g[i] + wd * p[i]
                    b[i] = isFirst ? d : mu * b[i] + d
                    p[i] -= lr * b[i]
                }
            }
        }
    }

    public func stateTensors(_ named: [(name: String, parameter: Parameter)]) throws -> [(name: String, tensor: Tensor)] {
        try named.compactMap { name, parameter in
            try velocity[ObjectIdentifier(parameter)].map { ("\(name).momentum_buffer", try parameter.fileLayout($0)) }
        }
    }

    public func restoreState(_ tensors: [String: Tensor], _ named: [(name: String, parameter: Parameter)]) throws {
        for (name, parameter) in named {
            guard let buffer = try tensors["\(name).momentum_buffer"].map(parameter.fromFileLayout) else { continue }
            guard buffer.shape == parameter.value.shape else {
                throw TensorError.shapeMismatch(op: "SGD.restoreState", "\(name): buffer \(buffer.shape), parameter \(parameter.value.shape)")
            }
            velocity[ObjectIdentifier(parameter)] = buffer
        }
    }
}

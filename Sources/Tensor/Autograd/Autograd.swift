import Synchronization

/// Whether operations are recorded for backpropagation in the current task.
public enum GradMode {
    @TaskLocal public static var isEnabled = true
}

/// Runs `body` without recording operations (inference, optimizer updates, rollouts).
public func withNoGrad<T>(_ body: () throws -> T) rethrows -> T {
    try GradMode.$isEnabled.withValue(false) { try body() }
}

enum Autograd {
    private static let counter = Atomic<Int>(0)

    static func nextSequence() -> Int { counter.add(1, ordering: .relaxed).newValue }

    /// Attaches a backward function to `output` when recording is on and some input requires gradients.
    static func record(_ output: Tensor, inputs: [GradNode?],
                       backward: @escaping (Tensor) throws -> [Tensor?]) -> Tensor {
        guard GradMode.isEnabled, inputs.contains(where: { $0 != nil }) else { return output }
        var result = output
        result.node = GradNode(inputs: inputs, backward: backward)
        return result
    }

    /// Reverse-mode sweep from `root`, freeing each operation's saved tensors once used.
    static func backward(from root: GradNode, seed: Tensor) throws {
        var order: [GradNode] = []
        var seen = Set<ObjectIdentifier>()
        var stack = [root]
        while let node = stack.popLast() {
            guard seen.insert(ObjectIdentifier(node)).inserted else { continue }
            order.append(node)
            for case let input? in node.inputs { stack.append(input) }
        }
        order.sort { $0.sequence > $1.sequence }
        try withNoGrad {
            try root.accumulate(seed)
            for node in order where !node.isLeaf {
                guard let function = node.backwardFunction else {
                    throw TensorError.autograd("the graph was already freed by an earlier backward()")
                }
                guard let grad = node.grad else { continue }
                node.grad = nil
                node.backwardFunction = nil
                let inputGrads = try function(grad)
                for (input, inputGrad) in zip(node.inputs, inputGrads) {
                    if let input, let inputGrad { try input.accumulate(inputGrad) }
                }
            }
        }
    }
}

extension Tensor {
    /// Backpropagates from this scalar, adding into the `grad` of every leaf it depends on.
    public func backward() throws {
        guard count == 1 else {
            throw TensorError.autograd("backward() needs a scalar, got shape \(shape)")
        }
        guard let node else { throw TensorError.autograd("backward() on a tensor that does not require grad") }
        try Autograd.backward(from: node, seed: Tensor(shape: shape, repeating: 1))
    }
}

/// One recorded operation of the autograd tape: which nodes it read and how to push a gradient back to them.
final class GradNode {
    /// Creation order: every node is recorded after its inputs, so reverse order is a valid backward order.
    let sequence: Int
    let inputs: [GradNode?]
    /// Maps the gradient of this node's output to gradients of its inputs (nil where an input needs none).
    var backwardFunction: ((Tensor) throws -> [Tensor?])?
    let isLeaf: Bool
    /// For a leaf: the accumulated gradient. For an operation: the gradient pending during `backward()`.
    var grad: Tensor?

    init(leafShape: [Int]) {
        sequence = Autograd.nextSequence()
        inputs = []
        isLeaf = true
    }

    init(inputs: [GradNode?], backward: @escaping (Tensor) throws -> [Tensor?]) {
        sequence = Autograd.nextSequence()
        self.inputs = inputs
        backwardFunction = backward
        isLeaf = false
    }

    func accumulate(_ gradient: Tensor) throws {
        if var existing = grad {
            grad = nil  // so the sum is written in place, not into a copy
            try existing.addInPlace(gradient)
            grad = existing
        } else {
            grad = gradient.detached()
        }
    }
}

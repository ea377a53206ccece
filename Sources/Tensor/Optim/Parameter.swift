/// A trainable tensor with identity: modules hold it, optimizers update it in place.
public final class Parameter: @unchecked Sendable {
    /// The current value; a leaf of the autograd graph while the parameter is trainable.
    public var value: Tensor
    /// False for biases and norm gains, which (as in Hugging Face's Trainer) get no weight decay.
    public let appliesWeightDecay: Bool
    /// True for a matrix that files hold transposed (GPT-2's Conv1D weights, [in, out] in checkpoints and [out, in]
    /// here like every other linear layer): what reads or writes files goes through `fileLayout` and `fromFileLayout`.
    public let isTransposedInFiles: Bool

    public init(_ value: Tensor, trainable: Bool = true, appliesWeightDecay: Bool = true, isTransposedInFiles: Bool = false) {
        self.value = trainable ? value.detached().requiringGrad() : value.detached()
        self.appliesWeightDecay = appliesWeightDecay
        self.isTransposedInFiles = isTransposedInFiles
    }

    /// `tensor` (the value, or optimizer state shaped like it) laid out as files hold it.
    public func fileLayout(_ tensor: Tensor) throws -> Tensor { try transposedIfInFiles(tensor) }

    /// A tensor read from a file, laid out as this parameter holds it.
    public func fromFileLayout(_ tensor: Tensor) throws -> Tensor { try transposedIfInFiles(tensor) }

    /// The value as files hold it.
    public var fileValue: Tensor { get throws { try fileLayout(value) } }

    /// Both directions are one transpose; a tensor of another rank is left for the caller's shape check to name.
    private func transposedIfInFiles(_ tensor: Tensor) throws -> Tensor {
        isTransposedInFiles && tensor.rank == 2 ? try withNoGrad { try tensor.transposed() } : tensor
    }

    /// The shape files give this parameter.
    public var fileShape: [Int] { isTransposedInFiles ? value.shape.reversed() : value.shape }

    /// Frozen parameters record no operations, so they receive no gradient and cost no backward work.
    public var isTrainable: Bool {
        get { value.requiresGrad }
        set { value = newValue ? value.detached().requiringGrad() : value.detached() }
    }

    public var grad: Tensor? { value.grad }

    public func zeroGrad() { value.zeroGrad() }

    /// Writes the accumulated gradient in place (clipping, summing over data-parallel ranks). With `creating`, a
    /// trainable parameter that has none gets zeros first; otherwise nil when it has none.
    @discardableResult
    public func withMutableGradient<R>(creating: Bool = false, _ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R? {
        guard let node = value.node, var gradient = node.grad ?? (creating ? Tensor.zeros(value.shape) : nil) else { return nil }
        node.grad = nil  // so the write below is in place, not into a copy
        defer { node.grad = gradient }
        return try gradient.withUnsafeMutableBufferPointer(body)
    }

    /// Replaces the values (e.g. from a checkpoint), keeping trainability.
    public func assign(_ newValue: Tensor) throws {
        guard newValue.shape == value.shape else {
            throw TensorError.shapeMismatch(op: "Parameter.assign", "\(newValue.shape) into \(value.shape)")
        }
        value = isTrainable ? newValue.detached().requiringGrad() : newValue.detached()
    }
}

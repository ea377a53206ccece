/// A trainable tensor with identity: modules hold it, optimizers update it in place.
public final class Parameter: @unchecked Sendable {
    /// The current value; a leaf of the autograd graph while the parameter is trainable.
    public var value: Tensor
    /// False for biases and norm gains, which (as in Hugging Face's Trainer) get no weight decay.
    public let appliesWeightDecay: Bool

    public init(_ value: Tensor, trainable: Bool = true, appliesWeightDecay: Bool = true) {
        self.value = trainable ? value.detached().requiringGrad() : value.detached()
        self.appliesWeightDecay = appliesWeightDecay
    }

    /// Frozen parameters record no operations, so they receive no gradient and cost no backward work.
    public var isTrainable: Bool {
        get { value.requiresGrad }
        set { value = newValue ? value.detached().requiringGrad() : value.detached() }
    }

    public var grad: Tensor? { value.grad }

    public func zeroGrad() { value.zeroGrad() }

    /// Replaces the values (e.g. from a checkpoint), keeping trainability.
    public func assign(_ newValue: Tensor) throws {
        guard newValue.shape == value.shape else {
            throw TensorError.shapeMismatch(op: "Parameter.assign", "\(newValue.shape) into \(value.shape)")
        }
        value = isTrainable ? newValue.detached().requiringGrad() : newValue.detached()
    }
}

/// Inverted dropout, the regularizer of LoRA adapters during training.
extension Tensor {
    /// Zeroes each element with `probability` and scales the survivors by 1/(1 − probability), so the
    /// expected value is unchanged and inference needs no rescaling. Backward multiplies by the same saved
    /// mask. The op always drops (at probability > 0): whether dropout applies (training, not inference or
    /// merging) is the caller's decision.
    public func dropout(probability: Float, generator: inout SeededGenerator) throws -> Tensor {
        guard probability >= 0, probability < 1 else {
            throw TensorError.invalidArgument(op: "dropout", "probability \(probability) is not in [0, 1)")
        }
        guard probability > 0 else { return self }
        let mask = Self.dropoutMask(shape, probability: probability, generator: &generator)
        let y = Kernels.zip(self, mask) { $0 * $1 }
        return Autograd.record(y, inputs: [node]) { g in [Kernels.zip(g, mask) { $0 * $1 }] }
    }

    /// 1/(1 − p) where an element is kept, 0 where it is dropped. Each generator step gives two 32-bit
    /// uniform draws (low half, then high half); an element is dropped when its draw is below p·2³².
    static func dropoutMask(_ shape: [Int], probability: Float, generator: inout SeededGenerator) -> Tensor {
        let mask = Tensor(uninitializedShape: shape)
        let p = mask.data, count = mask.count
        let threshold = UInt32(Swift.min(Double(probability) * 4_294_967_296, 4_294_967_295))
        let kept = 1 / (1 - probability)
        var i = 0
        while i < count {
            let bits = generator.next()
            p[i] = UInt32(truncatingIfNeeded: bits) < threshold ? 0 : kept
            if i + 1 < count { p[i + 1] = UInt32(truncatingIfNeeded: bits >> 32) < threshold ? 0 : kept }
            i += 2
        }
        return mask
    }
}

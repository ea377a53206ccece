/// Fused log-softmax + negative log-likelihood: never materialises the probabilities in the forward pass.
extension Tensor {
    public static let ignoreIndex = -100

    /// Mean cross-entropy of `logits[..., V]` against integer `targets` (one per row); rows whose target is
    /// `ignoreIndex` add nothing and are not counted. Returns a scalar.
    public func crossEntropy(targets: [Int], ignoreIndex: Int = Tensor.ignoreIndex) throws -> Tensor {
        let (rows, vocab) = try lastAxisRows(op: "crossEntropy")
        guard targets.count == rows else {
            throw TensorError.shapeMismatch(op: "crossEntropy", "\(targets.count) targets for \(rows) rows of \(shape)")
        }
        for t in targets where t != ignoreIndex && (t < 0 || t >= vocab) {
            throw TensorError.indexOutOfRange(op: "crossEntropy", index: t, bound: vocab)
        }
        var logSumExp = [Float](repeating: 0, count: rows)
        var losses = [Float](repeating: 0, count: rows)
        let src = data
        logSumExp.withUnsafeMutableBufferPointer { lse in
            losses.withUnsafeMutableBufferPointer { loss in
                let (lse, loss) = (lse.baseAddress!, loss.baseAddress!)
                withExtendedLifetime(self) {
                    Parallel.forRows(rows, rowCost: vocab * 2) { r in
                        guard targets[r] != ignoreIndex else { return }
                        lse[r] = Softmax.logSumExp(src + r * vocab, vocab)
                        loss[r] = lse[r] - src[r * vocab + targets[r]]
                    }
                }
            }
        }
        let counted = targets.filter { $0 != ignoreIndex }.count
        let total = losses.reduce(0, +)
        let out = Tensor(counted == 0 ? 0 : total / Float(counted))
        let logits = detached()
        return Autograd.record(out, inputs: [node]) { g in
            let scale = counted == 0 ? 0 : g.data[0] / Float(counted)
            let dx = Tensor(uninitializedShape: logits.shape)
            Parallel.forRows(rows, rowCost: vocab * 2) { r in
                let (x, d) = (logits.data + r * vocab, dx.data + r * vocab)
                guard targets[r] != ignoreIndex else {
                    d.initialize(repeating: 0, count: vocab)
                    return
                }
                let m = logSumExp[r]
                VectorMath.map(x, d, count: vocab) { VectorMath.exp($0 - m) * scale }
                d[targets[r]] -= scale
            }
            return [dx]
        }
    }
}

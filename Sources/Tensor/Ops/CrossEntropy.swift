/// Fused log-softmax + gather: log p(target) per row without materialising the probabilities or the log-softmax.
/// Cross-entropy (SFT) and per-token log-probabilities (PPO, DPO, KTO) are the same kernel.
extension Tensor {
    public static let ignoreIndex = -100

    /// log softmax(self)[row, targets[row]] for every row of `self[..., V]`: the shape without the last axis. Rows
    /// whose target is `ignoreIndex` give 0 and no gradient. Backward: ∂/∂x = g · (onehot(target) − softmax(x)),
    /// from the logits and each row's log Σ exp, which is all the op keeps.
    public func tokenLogProbabilities(targets: [Int], ignoreIndex: Int = Tensor.ignoreIndex) throws -> Tensor {
        try tokenLogProbabilities(targets: targets, ignoreIndex: ignoreIndex, op: "tokenLogProbabilities")
    }

    /// Mean cross-entropy of `logits[..., V]` against integer `targets` (one per row); rows whose target is
    /// `ignoreIndex` add nothing and are not counted. Returns a scalar.
    public func crossEntropy(targets: [Int], ignoreIndex: Int = Tensor.ignoreIndex) throws -> Tensor {
        let counted = targets.filter { $0 != ignoreIndex }.count
        let logProbabilities = try tokenLogProbabilities(targets: targets, ignoreIndex: ignoreIndex, op: "crossEntropy")
        return logProbabilities.sum() * (counted == 0 ? 0 : -1 / Float(counted))
    }

    private func tokenLogProbabilities(targets: [Int], ignoreIndex: Int, op: String) throws -> Tensor {
        let (rows, vocab) = try lastAxisRows(op: op)
        guard targets.count == rows else {
            throw TensorError.shapeMismatch(op: op, "\(targets.count) targets for \(rows) rows of \(shape)")
        }
        for t in targets where t != ignoreIndex && (t < 0 || t >= vocab) {
            throw TensorError.indexOutOfRange(op: op, index: t, bound: vocab)
        }
        let out = Tensor(uninitializedShape: Array(shape.dropLast()))
        let logSumExps = Tensor(uninitializedShape: [rows])
        let (src, dst, lse) = (data, out.data, logSumExps.data)
        withExtendedLifetime(self) {
            Parallel.forRows(rows, rowCost: vocab * 2) { r in
                guard targets[r] != ignoreIndex else { return (dst[r], lse[r]) = (0, 0) }
                lse[r] = Softmax.logSumExp(src + r * vocab, vocab)
                dst[r] = src[r * vocab + targets[r]] - lse[r]
            }
        }
        let logits = detached()
        return Autograd.record(out, inputs: [node]) { g in
            let dx = Tensor(uninitializedShape: logits.shape)
            withExtendedLifetime((logits, logSumExps)) {
                Parallel.forRows(rows, rowCost: vocab * 2) { r in
                    let (x, d) = (logits.data + r * vocab, dx.data + r * vocab)
                    guard targets[r] != ignoreIndex else { return d.initialize(repeating: 0, count: vocab) }
                    let (m, scale) = (logSumExps.data[r], -g.data[r])
                    VectorMath.map(x, d, count: vocab) { VectorMath.exp($0 - m) * scale }
                    d[targets[r]] -= scale
                }
            }
            return [dx]
        }
    }
}

import Foundation

/// Reductions, softmax over the last axis, and cross-entropy.
extension Ref {
    /// (outer, length, inner) around `axis` of `shape`, as for any axis-wise loop.
    static func split(_ shape: [Int], axis: Int) -> (outer: Int, length: Int, inner: Int) {
        (shape[..<axis].reduce(1, *), shape[axis], shape[(axis + 1)...].reduce(1, *))
    }

    static func sum(_ x: RefTensor) -> RefTensor { RefTensor(scalar: x.values.reduce(0, +)) }
    static func mean(_ x: RefTensor) -> RefTensor { RefTensor(scalar: x.values.reduce(0, +) / Double(x.count)) }

    /// Folds `axis` with `combine`, starting from the first element along it.
    static func reduce(_ x: RefTensor, axis: Int, keepDims: Bool, _ combine: (Double, Double) -> Double) -> RefTensor {
        let ax = self.axis(axis, rank: x.rank)
        let (outer, length, inner) = split(x.shape, axis: ax)
        var shape = x.shape
        if keepDims { shape[ax] = 1 } else { shape.remove(at: ax) }
        var out = RefTensor(shape: shape, repeating: 0)
        for o in 0..<outer {
            for i in 0..<inner {
                var acc = x.values[o * length * inner + i]
                for l in 1..<Swift.max(length, 1) { acc = combine(acc, x.values[(o * length + l) * inner + i]) }
                out.values[o * inner + i] = acc
            }
        }
        return out
    }

    static func sum(_ x: RefTensor, axis: Int, keepDims: Bool = false) -> RefTensor { reduce(x, axis: axis, keepDims: keepDims, +) }
    static func mean(_ x: RefTensor, axis: Int, keepDims: Bool = false) -> RefTensor {
        let n = Double(x.shape[self.axis(axis, rank: x.rank)])
        return sum(x, axis: axis, keepDims: keepDims).map { $0 / n }
    }
    static func max(_ x: RefTensor, axis: Int, keepDims: Bool = false) -> RefTensor {
        reduce(x, axis: axis, keepDims: keepDims) { Swift.max($0, $1) }
    }

    /// Applies `f` to every row of the last axis.
    static func rows(_ x: RefTensor, _ f: ([Double]) -> [Double]) -> RefTensor {
        let n = x.shape.last!
        var out = x
        for r in 0..<(x.count / n) {
            let row = f(Array(x.values[(r * n)..<((r + 1) * n)]))
            out.values.replaceSubrange((r * n)..<((r + 1) * n), with: row)
        }
        return out
    }

    static func logSumExp(_ row: [Double]) -> Double {
        let m = row.max()!
        return m + Foundation.log(row.map { Foundation.exp($0 - m) }.reduce(0, +))
    }

    /// exp(x_i) / Σ_j exp(x_j) along the last axis.
    static func softmax(_ x: RefTensor) -> RefTensor {
        rows(x) { row in let lse = logSumExp(row); return row.map { Foundation.exp($0 - lse) } }
    }

    static func logSoftmax(_ x: RefTensor) -> RefTensor {
        rows(x) { row in let lse = logSumExp(row); return row.map { $0 - lse } }
    }

    /// Mean over the rows whose target is not `ignoreIndex` of −log softmax(row)[target]; 0 when none count.
    static func crossEntropy(_ logits: RefTensor, targets: [Int], ignoreIndex: Int = -100) -> RefTensor {
        let n = logits.shape.last!
        var total = 0.0, counted = 0
        for (r, t) in targets.enumerated() where t != ignoreIndex {
            let row = Array(logits.values[(r * n)..<((r + 1) * n)])
            total += logSumExp(row) - row[t]
            counted += 1
        }
        return RefTensor(scalar: counted == 0 ? 0 : total / Double(counted))
    }

    /// log softmax(logits)[row, target] per row, 0 where the target is ignored.
    static func tokenLogProbabilities(_ logits: RefTensor, targets: [Int], ignoreIndex: Int = -100) -> RefTensor {
        let n = logits.shape.last!
        let values = targets.enumerated().map { r, t -> Double in
            guard t != ignoreIndex else { return 0 }
            let row = Array(logits.values[(r * n)..<((r + 1) * n)])
            return row[t] - logSumExp(row)
        }
        return RefTensor(shape: Array(logits.shape.dropLast()), values: values)
    }
}

/// sum, mean and max along an axis or over everything.
extension Tensor {
    public func sum() -> Tensor {
        var total: Double = 0
        let p = data
        withExtendedLifetime(self) { for i in 0..<count { total += Double(p[i]) } }
        let shape = self.shape
        return Autograd.record(Tensor(Float(total)), inputs: [node]) { g in
            [Tensor(shape: shape, repeating: g.data[0])]
        }
    }

    public func mean() -> Tensor { sum() * (1 / Float(Swift.max(count, 1))) }

    public func sum(axis: Int, keepDims: Bool = false) throws -> Tensor {
        let ax = try Shape.axis(axis, rank: rank, op: "sum")
        let (outer, length, inner) = Shape.split(shape, axis: ax)
        let out = Tensor.zeros(reducedShape(ax, keepDims: true))
        let src = data, dst = out.data
        withExtendedLifetime(self) {
            Parallel.forRows(outer, rowCost: length * inner) { o in
                let d = dst + o * inner
                for l in 0..<length {
                    let s = src + (o * length + l) * inner
                    for i in 0..<inner { d[i] += s[i] }
                }
            }
        }
        let inputShape = shape
        let result = Autograd.record(out, inputs: [node]) { g in
            [Kernels.expand(g, to: inputShape)]
        }
        return keepDims ? result : try result.reshaped(reducedShape(ax, keepDims: false))
    }

    public func mean(axis: Int, keepDims: Bool = false) throws -> Tensor {
        let ax = try Shape.axis(axis, rank: rank, op: "mean")
        return try sum(axis: ax, keepDims: keepDims) * (1 / Float(Swift.max(shape[ax], 1)))
    }

    /// Maximum along `axis`; the gradient flows to the first maximal element.
    public func max(axis: Int, keepDims: Bool = false) throws -> Tensor {
        let ax = try Shape.axis(axis, rank: rank, op: "max")
        let (outer, length, inner) = Shape.split(shape, axis: ax)
        guard length > 0 else { throw TensorError.invalidArgument(op: "max", "empty axis \(axis) in \(shape)") }
        let out = Tensor(uninitializedShape: reducedShape(ax, keepDims: true))
        var argmax = [Int32](repeating: 0, count: outer * inner)
        let src = data, dst = out.data
        argmax.withUnsafeMutableBufferPointer { arg in
            let arg = arg.baseAddress!
            withExtendedLifetime(self) {
                Parallel.forRows(outer, rowCost: length * inner) { o in
                    for i in 0..<inner {
                        var best = src[o * length * inner + i], at: Int32 = 0
                        for l in 1..<length where src[(o * length + l) * inner + i] > best {
                            best = src[(o * length + l) * inner + i]
                            at = Int32(l)
                        }
                        dst[o * inner + i] = best
                        arg[o * inner + i] = at
                    }
                }
            }
        }
        let inputShape = shape
        let result = Autograd.record(out, inputs: [node]) { g in
            let grad = Tensor.zeros(inputShape)
            for o in 0..<outer {
                for i in 0..<inner {
                    grad.data[(o * length + Int(argmax[o * inner + i])) * inner + i] = g.data[o * inner + i]
                }
            }
            return [grad]
        }
        return keepDims ? result : try result.reshaped(reducedShape(ax, keepDims: false))
    }

    private func reducedShape(_ axis: Int, keepDims: Bool) -> [Int] {
        var s = shape
        if keepDims { s[axis] = 1 } else { s.remove(at: axis) }
        return s
    }
}

/// Ops that move values: reshape, transpose, concat, slice, embedding, gather.
extension Ref {
    /// Same values under `shape` (one entry may be −1).
    static func reshape(_ x: RefTensor, _ shape: [Int]) -> RefTensor {
        let known = shape.filter { $0 != -1 }.reduce(1, *)
        return RefTensor(shape: shape.map { $0 == -1 ? x.count / known : $0 }, values: x.values)
    }

    /// out[..., i, ..., j, ...] = x[..., j, ..., i, ...] with axes `a0` and `a1` swapped.
    static func transpose(_ x: RefTensor, _ a0: Int = -2, _ a1: Int = -1) -> RefTensor {
        let (p, q) = (axis(a0, rank: x.rank), axis(a1, rank: x.rank))
        var shape = x.shape
        shape.swapAt(p, q)
        var out = RefTensor(shape: shape, repeating: 0)
        RefTensor.forEachIndex(shape) { index in
            var source = index
            source.swapAt(p, q)
            out[index] = x[source]
        }
        return out
    }

    /// The tensors one after another along `axis`.
    static func concat(_ xs: [RefTensor], axis: Int) -> RefTensor {
        let ax = self.axis(axis, rank: xs[0].rank)
        var shape = xs[0].shape
        shape[ax] = xs.map { $0.shape[ax] }.reduce(0, +)
        var out = RefTensor(shape: shape, repeating: 0)
        var start = 0
        for x in xs {
            for index in RefTensor.indices(x.shape) {
                var target = index
                target[ax] += start
                out[target] = x[index]
            }
            start += x.shape[ax]
        }
        return out
    }

    /// Elements `range` along `axis`.
    static func slice(_ x: RefTensor, axis: Int, _ range: Range<Int>) -> RefTensor {
        let ax = self.axis(axis, rank: x.rank)
        var shape = x.shape
        shape[ax] = range.count
        var out = RefTensor(shape: shape, repeating: 0)
        for index in RefTensor.indices(shape) {
            var source = index
            source[ax] += range.lowerBound
            out[index] = x[source]
        }
        return out
    }

    /// out[ids position, :] = table[id, :], shape `idsShape + [D]`.
    static func embedding(_ table: RefTensor, ids: [Int], shape idsShape: [Int]) -> RefTensor {
        let dim = table.shape[1]
        var out = RefTensor(shape: idsShape + [dim], repeating: 0)
        for (r, id) in ids.enumerated() {
            for d in 0..<dim { out.values[r * dim + d] = table[[id, d]] }
        }
        return out
    }

    /// out[row] = x[row, indices[row]] over the rows of the last axis.
    static func gather(_ x: RefTensor, lastAxis indices: [Int]) -> RefTensor {
        let n = x.shape.last!
        return RefTensor(shape: Array(x.shape.dropLast()), values: indices.enumerated().map { x.values[$0.offset * n + $0.element] })
    }
}

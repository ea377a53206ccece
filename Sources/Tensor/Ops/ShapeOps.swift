/// Ops that move values around: transpose, concat, slice.
extension Tensor {
    /// Swaps two axes (a copy: tensors stay contiguous).
    public func transposed(_ axis0: Int = -2, _ axis1: Int = -1) throws -> Tensor {
        let a0 = try Shape.axis(axis0, rank: rank, op: "transpose"), a1 = try Shape.axis(axis1, rank: rank, op: "transpose")
        var permutation = Array(0..<rank)
        permutation.swapAt(a0, a1)
        let out = permuted(permutation)
        return Autograd.record(out, inputs: [node]) { g in [g.permuted(permutation)] }
    }

    /// A contiguous copy with axes reordered: out axis i is input axis permutation[i].
    func permuted(_ permutation: [Int]) -> Tensor {
        let newShape = permutation.map { shape[$0] }
        let out = Tensor(uninitializedShape: newShape)
        var inputStrides = [Int](repeating: 1, count: rank)
        for i in stride(from: rank - 2, through: 0, by: -1) { inputStrides[i] = inputStrides[i + 1] * shape[i + 1] }
        let strides = permutation.map { inputStrides[$0] }
        let inner = newShape.last ?? 1, innerStride = strides.last ?? 1
        let rows = inner == 0 ? 0 : count / inner
        let (src, dst) = (data, out.data)
        withExtendedLifetime(self) {
            Parallel.forRows(rows, rowCost: inner) { row in
                var rem = row, offset = 0
                for axis in stride(from: newShape.count - 2, through: 0, by: -1) {
                    offset += (rem % newShape[axis]) * strides[axis]
                    rem /= newShape[axis]
                }
                let d = dst + row * inner
                for i in 0..<inner { d[i] = src[offset + i * innerStride] }
            }
        }
        return out
    }

    /// Joins tensors along `axis`; all other axes must match.
    public static func concat(_ tensors: [Tensor], axis: Int) throws -> Tensor {
        guard let first = tensors.first else { throw TensorError.invalidArgument(op: "concat", "no tensors") }
        let ax = try Shape.axis(axis, rank: first.rank, op: "concat")
        for t in tensors where t.rank != first.rank || t.shape.enumerated().contains(where: { $0.offset != ax && $0.element != first.shape[$0.offset] }) {
            throw TensorError.shapeMismatch(op: "concat", "\(t.shape) vs \(first.shape) along axis \(axis)")
        }
        let lengths = tensors.map { $0.shape[ax] }
        var shape = first.shape
        shape[ax] = lengths.reduce(0, +)
        let (outer, total, inner) = Shape.split(shape, axis: ax)
        let out = Tensor(uninitializedShape: shape)
        var start = 0
        for (t, length) in zip(tensors, lengths) {
            for o in 0..<outer {
                (out.data + (o * total + start) * inner).update(from: t.data + o * length * inner, count: length * inner)
            }
            start += length
        }
        withExtendedLifetime(tensors) {}
        return Autograd.record(out, inputs: tensors.map(\.node)) { g in
            var start = 0
            return try lengths.map { length in
                defer { start += length }
                return try g.slice(axis: ax, start..<(start + length))
            }
        }
    }

    /// Elements `range` along `axis`. Along the first axis this is a view of the same storage.
    public func slice(axis: Int, _ range: Range<Int>) throws -> Tensor {
        let ax = try Shape.axis(axis, rank: rank, op: "slice")
        guard range.lowerBound >= 0, range.upperBound <= shape[ax] else {
            throw TensorError.invalidArgument(op: "slice", "range \(range) outside 0..<\(shape[ax]) on axis \(axis) of \(shape)")
        }
        let (outer, length, inner) = Shape.split(shape, axis: ax)
        var newShape = shape
        newShape[ax] = range.count
        var out: Tensor
        if outer == 1 {
            out = Tensor(shape: newShape, storage: storage, offset: offset + range.lowerBound * inner)
        } else {
            out = Tensor(uninitializedShape: newShape)
            for o in 0..<outer {
                (out.data + o * range.count * inner).update(from: data + (o * length + range.lowerBound) * inner,
                                                           count: range.count * inner)
            }
        }
        let inputShape = shape
        return Autograd.record(out, inputs: [node]) { g in
            let grad = Tensor.zeros(inputShape)
            for o in 0..<outer {
                (grad.data + (o * length + range.lowerBound) * inner).update(from: g.data + o * range.count * inner,
                                                                            count: range.count * inner)
            }
            return [grad]
        }
    }
}

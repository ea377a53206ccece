import Tensor

/// Rows that the ranks computed apart, assembled on every rank in batch order: each rank writes its own rows into a
/// zeroed buffer of the whole batch, and the sum over the ranks (x + 0 = x exactly) is the batch.
extension Communicator {
    /// Token rows of any lengths; `rows` are the batch's rows `range` of `count`.
    public func gather(_ rows: [[Int]], at range: Range<Int>, count: Int) throws -> [[Int]] {
        guard size > 1 else { return rows }
        var lengths = [Double](repeating: 0, count: count)
        for (offset, row) in zip(range, rows) { lengths[offset] = Double(row.count) }
        try sum(&lengths)
        let width = Int(lengths.max() ?? 0)
        var ids = [Double](repeating: 0, count: count * width)
        for (offset, row) in zip(range, rows) {
            for (t, id) in row.enumerated() { ids[offset * width + t] = Double(id) }
        }
        try sum(&ids)
        return (0..<count).map { row in (0..<Int(lengths[row])).map { Int(ids[row * width + $0]) } }
    }

    public func gather(_ values: [Float], at range: Range<Int>, count: Int) throws -> [Float] {
        guard size > 1 else { return values }
        var whole = [Double](repeating: 0, count: count)
        for (offset, value) in zip(range, values) { whole[offset] = Double(value) }
        try sum(&whole)
        return whole.map { Float($0) }
    }

    /// A tensor whose first axis holds the batch's rows `range` of `count`; returns the whole batch's.
    public func gather(_ rows: Tensor, at range: Range<Int>, count: Int) throws -> Tensor {
        guard size > 1 else { return rows }
        let width = rows.count / max(rows.shape[0], 1)
        var whole = Tensor.zeros([count] + rows.shape.dropFirst())
        try whole.withUnsafeMutableBufferPointer { whole in
            rows.withUnsafeBufferPointer { whole.baseAddress!.advanced(by: range.lowerBound * width).update(from: $0.baseAddress!, count: $0.count) }
            try sum(whole)
        }
        return whole
    }
}

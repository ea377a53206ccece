import Foundation

/// Elementwise ops: NumPy broadcasting, arithmetic, activations, selection.
extension Ref {
    /// NumPy broadcasting: shapes are aligned at their last axis; each axis is equal or 1.
    static func broadcastShape(_ shapes: [[Int]]) -> [Int] {
        let rank = shapes.map(\.count).max() ?? 0
        return (0..<rank).map { axis in
            let sizes = shapes.map { s in axis < rank - s.count ? 1 : s[axis - (rank - s.count)] }
            let other = Set(sizes.filter { $0 != 1 })
            precondition(other.count <= 1, "shapes \(shapes) do not broadcast")
            return other.first ?? 1
        }
    }

    /// out[i] = f(inputs broadcast to a common shape, each read at i).
    static func elementwise(_ inputs: [RefTensor], _ f: ([Double]) -> Double) -> RefTensor {
        let shape = broadcastShape(inputs.map(\.shape))
        // Each input's step per output axis: its own row-major stride, 0 along axes it is broadcast on.
        let strides = inputs.map { t in
            var strides = [Int](repeating: 0, count: shape.count), step = 1
            for axis in stride(from: t.rank - 1, through: 0, by: -1) {
                if t.shape[axis] != 1 { strides[axis + shape.count - t.rank] = step }
                step *= t.shape[axis]
            }
            return strides
        }
        var values: [Double] = []
        var arguments = [Double](repeating: 0, count: inputs.count)
        RefTensor.forEachIndex(shape) { index in
            for (k, t) in inputs.enumerated() {
                var offset = 0
                for axis in index.indices { offset += index[axis] * strides[k][axis] }
                arguments[k] = t.values[offset]
            }
            values.append(f(arguments))
        }
        return RefTensor(shape: shape, values: values)
    }

    static func add(_ a: RefTensor, _ b: RefTensor) -> RefTensor { elementwise([a, b]) { $0[0] + $0[1] } }
    static func sub(_ a: RefTensor, _ b: RefTensor) -> RefTensor { elementwise([a, b]) { $0[0] - $0[1] } }
    static func mul(_ a: RefTensor, _ b: RefTensor) -> RefTensor { elementwise([a, b]) { $0[0] * $0[1] } }
    static func div(_ a: RefTensor, _ b: RefTensor) -> RefTensor { elementwise([a, b]) { $0[0] / $0[1] } }

    // MARK: Activations

    static func exp(_ x: RefTensor) -> RefTensor { x.map { Foundation.exp($0) } }
    static func log(_ x: RefTensor) -> RefTensor { x.map { Foundation.log($0) } }
    static func sqrt(_ x: RefTensor) -> RefTensor { x.map { $0.squareRoot() } }
    static func tanh(_ x: RefTensor) -> RefTensor { x.map { Foundation.tanh($0) } }
    static func sigmoid(_ x: RefTensor) -> RefTensor { x.map { 1 / (1 + Foundation.exp(-$0)) } }
    /// log σ(x) = −log(1 + e^{−x}), written stably for large |x|.
    static func logSigmoid(_ x: RefTensor) -> RefTensor {
        x.map { Swift.min($0, 0) - Foundation.log1p(Foundation.exp(-Swift.abs($0))) }
    }
    static func silu(_ x: RefTensor) -> RefTensor { x.map { $0 / (1 + Foundation.exp(-$0)) } }
    /// 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), GPT-2's gelu_new.
    static func geluTanh(_ x: RefTensor) -> RefTensor {
        x.map { 0.5 * $0 * (1 + Foundation.tanh((2 / Double.pi).squareRoot() * ($0 + 0.044715 * $0 * $0 * $0))) }
    }
    /// x·Φ(x) with Φ the standard normal CDF.
    static func geluExact(_ x: RefTensor) -> RefTensor { x.map { 0.5 * $0 * (1 + Foundation.erf($0 / 2.0.squareRoot())) } }

    // MARK: Selection

    static func clamp(_ x: RefTensor, min low: Double = -.infinity, max high: Double = .infinity) -> RefTensor {
        x.map { Swift.min(Swift.max($0, low), high) }
    }
    static func minimum(_ a: RefTensor, _ b: RefTensor) -> RefTensor { elementwise([a, b]) { Swift.min($0[0], $0[1]) } }
    static func maximum(_ a: RefTensor, _ b: RefTensor) -> RefTensor { elementwise([a, b]) { Swift.max($0[0], $0[1]) } }
    /// condition ≠ 0 ? a : b, all three broadcast.
    static func `where`(_ condition: RefTensor, _ a: RefTensor, _ b: RefTensor) -> RefTensor {
        elementwise([condition, a, b]) { $0[0] != 0 ? $0[1] : $0[2] }
    }
    static func masked(_ x: RefTensor, keeping mask: RefTensor, fill: Double) -> RefTensor {
        `where`(mask, x, RefTensor(scalar: fill))
    }
}

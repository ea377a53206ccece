import Tensor

/// A float64 tensor for reference computations: a shape and row-major values, nothing else.
///
/// The reference ops (`Ref.*`) are written from the math definitions with naive loops and never call the
/// engine, so the gradient checks compare two independent implementations of every op.
struct RefTensor: Equatable {
    var shape: [Int]
    var values: [Double]

    init(shape: [Int], values: [Double]) {
        precondition(shape.reduce(1, *) == values.count, "\(values.count) values for shape \(shape)")
        self.shape = shape
        self.values = values
    }

    init(shape: [Int], repeating value: Double) {
        self.init(shape: shape, values: [Double](repeating: value, count: shape.reduce(1, *)))
    }

    init(scalar: Double) { self.init(shape: [], values: [scalar]) }

    /// The exact float64 values of an engine tensor.
    init(_ tensor: Tensor) { self.init(shape: tensor.shape, values: tensor.scalars.map(Double.init)) }

    var count: Int { values.count }
    var rank: Int { shape.count }

    /// Values at a multi-index.
    subscript(_ index: [Int]) -> Double {
        get { values[Self.offset(of: index, in: shape)] }
        set { values[Self.offset(of: index, in: shape)] = newValue }
    }

    func map(_ f: (Double) -> Double) -> RefTensor { RefTensor(shape: shape, values: values.map(f)) }

    // MARK: Index arithmetic

    static func offset(of index: [Int], in shape: [Int]) -> Int {
        precondition(index.count == shape.count, "index \(index) for shape \(shape)")
        var offset = 0
        for (i, n) in zip(index, shape) {
            precondition(i >= 0 && i < n, "index \(index) outside \(shape)")
            offset = offset * n + i
        }
        return offset
    }

    static func index(of offset: Int, in shape: [Int]) -> [Int] {
        var rest = offset
        var index = [Int](repeating: 0, count: shape.count)
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            index[axis] = rest % shape[axis]
            rest /= shape[axis]
        }
        return index
    }

    /// Every multi-index of `shape` in row-major order.
    static func indices(_ shape: [Int]) -> [[Int]] {
        var all: [[Int]] = []
        forEachIndex(shape) { all.append($0) }
        return all
    }

    /// Calls `body` with every multi-index of `shape` in row-major order (last axis fastest).
    static func forEachIndex(_ shape: [Int], _ body: ([Int]) -> Void) {
        guard !shape.contains(0) else { return }
        var index = [Int](repeating: 0, count: shape.count)
        while true {
            body(index)
            var axis = shape.count - 1
            while axis >= 0 {
                index[axis] += 1
                if index[axis] < shape[axis] { break }
                index[axis] = 0
                axis -= 1
            }
            if axis < 0 { return }
        }
    }
}

/// Reference implementations of the engine's differentiable ops, in float64.
enum Ref {
    /// A negative axis counts from the end.
    static func axis(_ axis: Int, rank: Int) -> Int {
        let resolved = axis < 0 ? axis + rank : axis
        precondition(resolved >= 0 && resolved < rank, "axis \(axis) for rank \(rank)")
        return resolved
    }
}

import Tensor

/// A lookup table of `count` vectors of width `dimension`.
public final class Embedding: Module {
    public let weight: Parameter

    public init(_ count: Int, _ dimension: Int, std: Float = 0.02, initializer: inout WeightInitializer) {
        weight = Parameter(initializer.normal([count, dimension], std: std))
    }

    /// Vectors for `ids` laid out as `shape`, giving `shape + [dimension]`.
    public func callAsFunction(_ ids: [Int], shape: [Int]) throws -> Tensor {
        try Tensor.embedding(weight.value, ids: ids, shape: shape)
    }

    public var namedParameters: [(name: String, parameter: Parameter)] { [("weight", weight)] }
}

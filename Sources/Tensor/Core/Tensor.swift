/// A dense, row-major float32 tensor with value semantics (copy-on-write storage).
///
/// Copies share storage until one of them is written; `reshaped` and slices along the first axis are
/// views of the same storage. A tensor that requires gradients carries a node of the autograd graph.
public struct Tensor: @unchecked Sendable {
    public private(set) var shape: [Int]
    var storage: TensorStorage
    var offset: Int
    var node: GradNode?

    public var count: Int { Shape.count(shape) }
    public var rank: Int { shape.count }

    init(shape: [Int], storage: TensorStorage, offset: Int = 0, node: GradNode? = nil) {
        self.shape = shape
        self.storage = storage
        self.offset = offset
        self.node = node
    }

    /// Uninitialised memory: the caller writes every element before reading.
    init(uninitializedShape shape: [Int]) {
        self.init(shape: shape, storage: TensorStorage(count: Shape.count(shape)))
    }

    public init(shape: [Int], repeating value: Float) {
        self.init(uninitializedShape: shape)
        storage.pointer.initialize(repeating: value, count: count)
    }

    public init(shape: [Int], scalars: [Float]) throws {
        guard Shape.count(shape) == scalars.count, shape.allSatisfy({ $0 >= 0 }) else {
            throw TensorError.shapeMismatch(op: "Tensor(shape:scalars:)",
                                            "\(scalars.count) values for shape \(shape)")
        }
        self.init(uninitializedShape: shape)
        scalars.withUnsafeBufferPointer { storage.pointer.update(from: $0.baseAddress!, count: count) }
    }

    public init(_ scalar: Float) {
        self.init(shape: [], repeating: scalar)
    }

    public static func zeros(_ shape: [Int]) -> Tensor { Tensor(shape: shape, repeating: 0) }
    public static func ones(_ shape: [Int]) -> Tensor { Tensor(shape: shape, repeating: 1) }

    /// Normal samples with the given standard deviation, reproducible from `generator`.
    public static func randn(_ shape: [Int], std: Float = 1, using generator: inout SeededGenerator) -> Tensor {
        let t = Tensor(uninitializedShape: shape)
        let p = t.storage.pointer
        var i = 0
        while i < t.count {
            let (z0, z1) = generator.nextGaussianPair()
            p[i] = std * Float(z0)
            if i + 1 < t.count { p[i + 1] = std * Float(z1) }
            i += 2
        }
        return t
    }

    /// Uniform samples in `range`, reproducible from `generator`.
    public static func uniform(_ shape: [Int], in range: ClosedRange<Float>, using generator: inout SeededGenerator) -> Tensor {
        let t = Tensor(uninitializedShape: shape)
        let p = t.storage.pointer
        for i in 0..<t.count { p[i] = Float.random(in: range, using: &generator) }
        return t
    }

    // MARK: Element access

    /// Read-only pointer to the first element; valid while `self` is alive.
    var data: UnsafeMutablePointer<Float> { storage.pointer + offset }

    public var scalars: [Float] { Array(UnsafeBufferPointer(start: data, count: count)) }

    /// The single value of a one-element tensor.
    public var item: Float {
        get throws {
            guard count == 1 else {
                throw TensorError.invalidArgument(op: "item", "tensor of shape \(shape) has \(count) values")
            }
            return data[0]
        }
    }

    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try withExtendedLifetime(storage) { try body(UnsafeBufferPointer(start: data, count: count)) }
    }

    /// Writes in place, copying first if the storage is shared with another tensor.
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (UnsafeMutableBufferPointer<Float>) throws -> R
    ) rethrows -> R {
        if !isKnownUniquelyReferenced(&storage) || storage.count != count {
            let copy = TensorStorage(count: count)
            copy.pointer.update(from: data, count: count)
            storage = copy
            offset = 0
        }
        return try body(UnsafeMutableBufferPointer(start: data, count: count))
    }

    // MARK: Views

    /// Same data under another shape; one dimension may be -1.
    public func reshaped(_ newShape: [Int]) throws -> Tensor {
        let known = newShape.filter { $0 != -1 }.reduce(1, *)
        let inferred = newShape.filter { $0 == -1 }.count
        guard inferred <= 1, newShape.allSatisfy({ $0 >= -1 }), known > 0 || count == 0 else {
            throw TensorError.invalidArgument(op: "reshape", "cannot reshape \(shape) to \(newShape)")
        }
        let resolved = inferred == 1 ? newShape.map { $0 == -1 ? count / Swift.max(known, 1) : $0 } : newShape
        guard Shape.count(resolved) == count else {
            throw TensorError.shapeMismatch(op: "reshape", "cannot reshape \(shape) (\(count) values) to \(newShape)")
        }
        var view = Tensor(shape: resolved, storage: storage, offset: offset)
        if let node {
            let inputShape = shape
            view = Autograd.record(view, inputs: [node]) { grad in [try grad.reshaped(inputShape)] }
        }
        return view
    }

    /// Whether both are the same values in the same storage (a cheap identity test, not a comparison of values).
    public func sharesStorage(with other: Tensor) -> Bool {
        storage === other.storage && offset == other.offset && shape == other.shape
    }

    // MARK: Autograd surface

    public var requiresGrad: Bool { node != nil }

    /// The accumulated gradient of a leaf that requires gradients.
    public var grad: Tensor? { node?.grad }

    /// A leaf of the autograd graph sharing this tensor's values.
    public func requiringGrad() -> Tensor {
        Tensor(shape: shape, storage: storage, offset: offset, node: GradNode(leafShape: shape))
    }

    /// The same values cut from the autograd graph.
    public func detached() -> Tensor { Tensor(shape: shape, storage: storage, offset: offset) }

    public func zeroGrad() { node?.grad = nil }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let preview = scalars.prefix(8).map { String($0) }.joined(separator: ", ")
        return "Tensor(\(shape), [\(preview)\(count > 8 ? ", …" : "")])"
    }
}

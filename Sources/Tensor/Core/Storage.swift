/// A float buffer shared by tensors (copy-on-write is decided by `Tensor`).
/// It either owns a 64-byte-aligned allocation or borrows memory kept alive by `owner` (e.g. a memory map).
public final class TensorStorage: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int
    private let owner: AnyObject?

    /// Uninitialised storage for `count` floats.
    public init(count: Int) {
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * 4, alignment: 64)
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        owner = nil
    }

    /// Memory owned by someone else, released when `owner` is.
    public init(borrowing pointer: UnsafeMutablePointer<Float>, count: Int, owner: AnyObject) {
        self.pointer = pointer
        self.count = count
        self.owner = owner
    }

    deinit {
        if owner == nil { UnsafeMutableRawPointer(pointer).deallocate() }
    }
}

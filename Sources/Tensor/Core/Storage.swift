import Foundation
import Synchronization

/// A float buffer shared by tensors (copy-on-write is decided by `Tensor`).
/// It either owns a 64-byte-aligned allocation or borrows memory kept alive by `owner` (e.g. a memory map).
public final class TensorStorage: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int
    private let owner: AnyObject?

    /// Uninitialised storage for `count` floats.
    public init(count: Int) {
        self.count = count
        pointer = BufferPool.shared.allocate(bytes: max(count, 1) * 4).bindMemory(to: Float.self, capacity: max(count, 1))
        owner = nil
    }

    /// Memory owned by someone else, released when `owner` is.
    public init(borrowing pointer: UnsafeMutablePointer<Float>, count: Int, owner: AnyObject) {
        self.pointer = pointer
        self.count = count
        self.owner = owner
    }

    deinit {
        if owner == nil { BufferPool.shared.release(UnsafeMutableRawPointer(pointer), bytes: max(count, 1) * 4) }
    }
}

/// Keeps freed large buffers for reuse by the next tensor of the same size class. Training allocates the same
/// activation shapes every step; without this each one is a fresh mmap whose pages the kernel must zero
/// (measured ~8% of a GPT-2-small training step). Sizes are rounded up to eight classes per power of two, so
/// batches of varying length (reward models, PPO, SFT without packing) reuse buffers too instead of piling up
/// one cached buffer per distinct length.
final class BufferPool: Sendable {
    /// A quarter of physical memory: enough to hold one training step's activations and gradients.
    static let shared = BufferPool(limitBytes: Int(ProcessInfo.processInfo.physicalMemory / 4))

    /// Buffers smaller than this go straight to the system allocator.
    private static let minimumBytes = 64 << 10
    private let limitBytes: Int
    /// Free buffers by size, held as addresses so the state is Sendable.
    private let state = Mutex<(free: [Int: [UInt]], cachedBytes: Int)>(([:], 0))

    init(limitBytes: Int) { self.limitBytes = limitBytes }

    /// `bytes` rounded up to its class: at most 12.5% more.
    static func sizeClass(_ bytes: Int) -> Int {
        guard bytes >= minimumBytes else { return bytes }
        let step = 1 << (Int.bitWidth - 1 - bytes.leadingZeroBitCount - 3)
        return (bytes + step - 1) / step * step
    }

    func allocate(bytes requested: Int) -> UnsafeMutableRawPointer {
        let bytes = Self.sizeClass(requested)
        if bytes >= Self.minimumBytes, let reused = state.withLock({ state -> UInt? in
            guard let address = state.free[bytes]?.popLast() else { return nil }
            state.cachedBytes -= bytes
            return address
        }), let buffer = UnsafeMutableRawPointer(bitPattern: reused) {
            return buffer
        }
        return UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
    }

    /// Frees every cached buffer (between runs in one process, so each starts from what it really holds).
    func empty() {
        let addresses = state.withLock { state -> [UInt] in
            defer { state = ([:], 0) }
            return state.free.values.flatMap { $0 }
        }
        for address in addresses { UnsafeMutableRawPointer(bitPattern: address)?.deallocate() }
    }

    func release(_ buffer: UnsafeMutableRawPointer, bytes requested: Int) {
        let bytes = Self.sizeClass(requested)
        let kept = bytes >= Self.minimumBytes && state.withLock { state -> Bool in
            guard state.cachedBytes + bytes <= limitBytes else { return false }
            state.free[bytes, default: []].append(UInt(bitPattern: buffer))
            state.cachedBytes += bytes
            return true
        }
        if !kept { buffer.deallocate() }
    }
}

extension Tensor {
    /// Returns the freed activation buffers the engine keeps for reuse to the system: a run started after this
    /// (e.g. the next stage of a pipeline in one process) measures only its own memory.
    public static func releaseCachedBuffers() { BufferPool.shared.empty() }
}

#if os(Linux)
import CKernels
#endif
import Dispatch
import Foundation

/// Splits loops across the machine's cores.
public enum Parallel {
    /// The cores this process may use: on Linux its CPU affinity, so each rank that mpirun binds to its own cores
    /// splits work over those alone.
    public static let coreCount: Int = {
        #if os(Linux)
        let usable = Int(rlhf_usable_cores())
        if usable > 0 { return usable }
        #endif
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }()

    /// Runs `body` over contiguous chunks covering `0..<count`, each at least `grain` long,
    /// on all cores; small loops stay on the calling thread.
    @inline(__always)
    public static func forChunks(_ count: Int, grain: Int, _ body: (Range<Int>) -> Void) {
        let chunks = min(coreCount, count / max(grain, 1))
        if chunks <= 1 {
            if count > 0 { body(0..<count) }
            return
        }
        let size = (count + chunks - 1) / chunks
        withoutActuallyEscaping(body) { body in
            let task = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                let start = chunk * size
                let end = min(count, start + size)
                if start < end { task.value(start..<end) }
            }
        }
    }

    /// Runs `body(row)` for every row, splitting rows across cores when the work (rows × rowCost) is large.
    @inline(__always)
    public static func forRows(_ rows: Int, rowCost: Int, _ body: (Int) -> Void) {
        let grain = max(1, minimumWork / max(rowCost, 1))
        forChunks(rows, grain: grain) { range in for row in range { body(row) } }
    }

    /// Below this many element operations a loop is not worth waking another core for.
    static let minimumWork = 1 << 15
}

/// Lets a loop body that only touches disjoint memory cross into Dispatch's worker threads.
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

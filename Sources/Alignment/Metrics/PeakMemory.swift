import Foundation
import Tensor

/// The peak resident memory of the process, measured per run: on Linux the kernel's high-water mark can be reset
/// (`/proc/self/clear_refs`), so runs in one process (`rlhf demo`) each get their own peak; elsewhere it is the
/// process's peak so far.
public enum PeakMemory {
    /// Starts a new measurement where the platform allows it, after returning the engine's cached buffers (which an
    /// earlier run in the process left) to the system.
    public static func reset() {
        Tensor.releaseCachedBuffers()
        #if os(Linux)
        try? Data("5".utf8).write(to: URL(fileURLWithPath: "/proc/self/clear_refs"))
        #endif
    }

    /// Peak resident bytes since the last `reset()` (or since the process started).
    public static var bytes: Int {
        #if os(Linux)
        if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
           let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
           let kilobytes = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") {
            return kilobytes * 1024
        }
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Int(usage.ru_maxrss) * 1024  // kilobytes on Linux
        #else
        var usage = rusage()
        getrusage(RUSAGE_SELF, &usage)
        return Int(usage.ru_maxrss)  // bytes on Darwin
        #endif
    }
}

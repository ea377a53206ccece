import Foundation

/// Work too large for the machine is refused before anything is allocated, naming both sizes.
enum MemoryBudget {
    /// "about N GB, more than this machine's M GB of memory" when `bytes` exceed its physical memory; nil when they fit.
    static func overrun(_ bytes: Double) -> String? {
        let memory = Double(ProcessInfo.processInfo.physicalMemory)
        guard bytes > memory else { return nil }
        return String(format: "about %.1f GB, more than this machine's %.1f GB of memory", bytes / 1e9, memory / 1e9)
    }
}

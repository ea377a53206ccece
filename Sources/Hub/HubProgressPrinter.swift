import Foundation

/// Download progress on stderr: one line per file rewritten in place on a terminal (at most 5 times a second),
/// one line per finished file otherwise, so logs stay readable.
public final class HubProgressPrinter: @unchecked Sendable {
    private let lock = NSLock()
    private let terminal = isatty(FileHandle.standardError.fileDescriptor) != 0
    private var lastPrint = Date.distantPast
    private var started: [String: Date] = [:]

    public init() {}

    /// The handler to give `HubStore`.
    public var handler: @Sendable (HubTransfer) -> Void { { [self] in self.show($0) } }

    private func show(_ transfer: HubTransfer) {
        lock.lock()
        defer { lock.unlock() }
        let key = "\(transfer.model) \(transfer.file)"
        let start = started[key] ?? Date()
        started[key] = start
        let size = { (bytes: Int) in String(format: "%.1f MB", Double(bytes) / 1_000_000) }
        let total = transfer.total.map { " of \(size($0))" } ?? ""
        if transfer.finished {
            started[key] = nil
            let seconds = Date().timeIntervalSince(start)
            let line = "\(key): \(size(transfer.bytes))"
                + (transfer.cached ? ", already in the cache" : seconds > 0.5 ? String(format: " in %.1f s", seconds) : "")
            FileHandle.standardError.write(Data(((terminal ? "\r\u{1B}[K" : "") + line + "\n").utf8))
        } else if terminal, Date().timeIntervalSince(lastPrint) >= 0.2 {
            lastPrint = Date()
            let rate = Double(transfer.bytes) / max(Date().timeIntervalSince(start), 1e-3) / 1_000_000
            FileHandle.standardError.write(Data(String(format: "\r\u{1B}[K%@: %@%@  %.1f MB/s", key, size(transfer.bytes), total, rate).utf8))
        }
    }
}

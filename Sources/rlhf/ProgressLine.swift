import Foundation

/// A single status line on stderr, rewritten in place, for long-running commands; silent when stderr
/// is not a terminal (logs and pipes get no control characters).
struct ProgressLine {
    let enabled: Bool

    init(enabled: Bool) {
        self.enabled = enabled && isatty(FileHandle.standardError.fileDescriptor) != 0
    }

    func say(_ message: String) {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K\(message)".utf8))
    }

    func clear() { say("") }
}

import Foundation

/// A single status line on stderr, rewritten in place, for long-running commands.
struct ProgressLine {
    let enabled: Bool

    func say(_ message: String) {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K\(message)".utf8))
    }

    func clear() { say("") }
}

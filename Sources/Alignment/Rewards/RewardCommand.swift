#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Data
import Foundation

/// `--reward-cmd CMD`: a program in any language that scores completions. It is started once (by /bin/sh) and kept
/// running; for each batch it reads one JSON object per completion on stdin — `prompt`, `completion` and every other
/// column of the prompt's row — and writes one number per line on stdout, in the same order (`null` when it does
/// not score that completion). Its stderr goes to ours. Garbage, too few lines, silence or an exit stop the run with
/// one line that says what it printed.
public final class RewardCommand: RewardFunction {
    public let name: String
    public let command: String
    /// How long a batch's answers may take.
    public let timeout: TimeInterval
    private let process = Process()
    private let input = Pipe(), output = Pipe()
    private var buffered = Data()
    private var answered = 0

    public init(_ command: String, timeout: TimeInterval = 600) throws {
        signal(SIGPIPE, SIG_IGN)  // a program that dies must fail the write, not kill us
        self.command = command
        self.timeout = timeout
        name = Self.name(of: command)
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        (process.standardInput, process.standardOutput) = (input, output)
        do { try process.run() } catch { throw JobError("reward_cmd '\(command)': cannot start: \(error.localizedDescription)") }
    }

    deinit {
        try? input.fileHandleForWriting.close()
        if process.isRunning { process.terminate() }
    }

    /// The program's file name ("python3 score.py" → "score.py"), what its metrics are logged under.
    static func name(of command: String) -> String {
        let words = command.split(separator: " ").map(String.init)
        let script = words.dropFirst().first { !$0.hasPrefix("-") && ($0.contains(".") || $0.contains("/")) } ?? words.first ?? "cmd"
        return URL(fileURLWithPath: script).lastPathComponent
    }

    public func rewards(_ inputs: [RewardInput]) throws -> [Float?] {
        var lines = Data()
        for item in inputs {
            var object = item.row
            (object["prompt"], object["completion"]) = (item.prompt, item.completion)
            lines += try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) + Data([0x0A])
        }
        // Written from another thread: a program may answer while it still reads, and a full pipe must not stall us.
        let writer = Thread { [input, lines] in try? input.fileHandleForWriting.write(contentsOf: lines) }
        writer.start()
        return try (0..<inputs.count).map { index in try parse(try readLine(index: index, of: inputs.count), index: index, of: inputs.count) }
    }

    /// The error that ends the run; the program is stopped first, so nothing it started outlives us.
    private func failure(_ message: String) -> JobError {
        if process.isRunning { process.terminate() }
        return JobError("reward_cmd '\(command)': \(message)")
    }

    private func parse(_ line: String, index: Int, of count: Int) throws -> Float? {
        answered += 1
        let text = line.trimmingCharacters(in: .whitespaces)
        if ["null", "None", "none"].contains(text) { return nil }
        guard let value = Float(text), value.isFinite else {
            throw failure("line \(answered) of its output (answer \(index + 1) of \(count) in this batch) is not a number: \(Self.shown(line))")
        }
        return value
    }

    /// The next line of output; throws when the program exits or stays silent first.
    private func readLine(index: Int, of count: Int) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        let descriptor = output.fileHandleForReading.fileDescriptor
        while true {
            if let newline = buffered.firstIndex(of: 0x0A) {
                let line = buffered[buffered.startIndex..<newline]
                buffered = Data(buffered[buffered.index(after: newline)...])
                return String(decoding: line, as: UTF8.self)
            }
            let remaining = deadline.timeIntervalSinceNow
            var request = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let ready = remaining > 0 ? poll(&request, 1, Int32(min(remaining, 3600) * 1000)) : 0
            if ready == 0 {
                throw failure("answered \(index) of \(count) completions of this batch within \(Int(timeout)) s" + partial)
            }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let read = chunk.withUnsafeMutableBytes { Foundation.read(descriptor, $0.baseAddress, $0.count) }
            if read > 0 {
                buffered += chunk[..<read]
            } else if read == 0 || errno != EINTR {
                process.waitUntilExit()
                throw failure("exited (status \(process.terminationStatus)) after answering \(index) of \(count) completions of this batch" + partial)
            }
        }
    }

    /// What the program printed of an unfinished line.
    private var partial: String { buffered.isEmpty ? "" : "; it printed \(Self.shown(String(decoding: buffered, as: UTF8.self)))" }

    private static func shown(_ text: String) -> String {
        let clipped = text.count > 80 ? String(text.prefix(80)) + "…" : text
        return "\"" + clipped.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "\r", with: "\\r") + "\""
    }
}

import Alignment
import Foundation

/// Renders training events: a progress line on a terminal, a line every tenth of the run otherwise.
final class TrainingReporter {
    let progress = ProgressLine(enabled: true)
    /// When the current run started (a pipeline's runs each report their own elapsed time).
    private var started = Date()

    func handle(_ event: RunEvent) -> Bool {
        switch event {
        case .message(let text):
            log(text)
        case .started:
            started = Date()
        case .stepEnded(let step, let total, let metrics):
            let elapsed = Date().timeIntervalSince(started)
            let (name, value) = metrics["objective/scores"].map { ("score", $0) } ?? ("loss", metrics["loss"] ?? 0)
            let line = String(format: "step %d/%d %@ %@ %.4f", step, total, bar(step, total), name, value)
                + (metrics["objective/kl"].map { String(format: " kl %.4f", $0) } ?? "")
                + (metrics["learning_rate"].map { String(format: " lr %.2e", $0) } ?? "")
                + (metrics["tokens_per_second"].map { String(format: " %.0f tok/s", $0) } ?? "") + " elapsed \(Int(elapsed))s"
            if progress.enabled { progress.say(line) } else if step == total || step % max(1, total / 10) == 0 { log(line) }
        case .evaluated(let step, let metrics):
            progress.clear()
            log("step \(step): " + metrics.sorted { $0.key < $1.key }.map { String(format: "%@ %.4f", $0.key, $0.value) }.joined(separator: ", "))
        case .checkpointSaved(_, let directory):
            progress.clear()
            log("saved \(directory.path)")
        }
        return true
    }

    private func bar(_ step: Int, _ total: Int) -> String {
        let filled = total > 0 ? step * 20 / total : 20
        return "[" + String(repeating: "=", count: filled) + String(repeating: " ", count: 20 - filled) + "]"
    }

    func log(_ message: String) {
        if progress.enabled { progress.clear() }
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }
}

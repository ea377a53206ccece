import Data
import Foundation

/// Where every run's metrics go: `metrics.jsonl` in the output directory (one JSON object per line, with its
/// "step") and, when on, TensorBoard event files that `tensorboard --logdir OUT` shows.
public final class MetricsSink {
    public let url: URL
    public let tensorBoardDirectory: URL?
    private var tensorBoard: TensorBoardWriter?
    /// Every line logged, with its "step", those of a resumed run's earlier part included.
    public private(set) var history: [[String: Double]] = []

    /// The last value logged of every metric.
    public var latest: [String: Double] {
        var latest: [String: Double] = [:]
        for line in history { latest.merge(line) { _, new in new } }
        latest["step"] = nil
        return latest
    }

    /// False on the ranks of a data-parallel job other than 0: they keep `history` and write nothing.
    public let writesFiles: Bool

    public init(output: URL, tensorBoardDirectory: URL?, writesFiles: Bool = true) {
        url = output.appendingPathComponent("metrics.jsonl")
        (self.tensorBoardDirectory, self.writesFiles) = (tensorBoardDirectory, writesFiles)
    }

    /// Opens the logs: a fresh run removes what an earlier attempt logged; a resumed one drops the lines logged
    /// after its checkpoint's `step` (it logs those steps again), and TensorBoard is told to drop them too.
    public func open(resumingAfter step: Int?) throws {
        guard writesFiles else { return }
        if let step {
            try JSONLines.truncate(url, after: step, key: "step")
            history = ((try? JSONLines.read(url)) ?? []).map { $0.object.compactMapValues { ($0 as? NSNumber)?.doubleValue } }
        } else {
            try? FileManager.default.removeItem(at: url)
            if let tensorBoardDirectory { try TensorBoardWriter.removeEventFiles(in: tensorBoardDirectory) }
        }
        if let tensorBoardDirectory { tensorBoard = try TensorBoardWriter(directory: tensorBoardDirectory, resumingAfter: step ?? 0) }
    }

    public func log(_ metrics: [String: Double], step: Int) throws {
        var line = metrics
        line["step"] = Double(step)
        if writesFiles {
            try JSONLines.appendLine(try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys, .withoutEscapingSlashes]), to: url)
            try tensorBoard?.add(metrics, step: step)
        }
        history.append(line)
    }

    public func close() throws { try tensorBoard?.close() }
}

import Data
import Foundation

/// Appends one JSON object per line to `metrics.jsonl` in the output directory.
public final class MetricsLog {
    public let url: URL

    public init(directory: URL) {
        url = directory.appendingPathComponent("metrics.jsonl")
    }

    public func append(_ metrics: [String: Double]) throws {
        try JSONLines.appendLine(try JSONSerialization.data(withJSONObject: metrics, options: [.sortedKeys, .withoutEscapingSlashes]),
                                 to: url)
    }

    /// Drops lines logged after `step` (a resumed run logs those steps again).
    public func truncate(after step: Int) throws {
        try JSONLines.truncate(url, after: step, key: "step")
    }
}

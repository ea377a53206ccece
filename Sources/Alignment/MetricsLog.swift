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
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return }
        let kept = text.split(separator: "\n").filter { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let logged = object["step"] as? Double else { return true }
            return Int(logged) <= step
        }
        try Data((kept.joined(separator: "\n") + (kept.isEmpty ? "" : "\n")).utf8).write(to: url, options: .atomic)
    }
}

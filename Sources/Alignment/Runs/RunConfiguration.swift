import Data
import Foundation

/// A training job's settings (`SFTConfig`, `PPOConfig`, `DPOConfig`, …). Every checkpoint stores its run's
/// configuration, so a resume can tell whether it would change what the run computes.
public protocol RunConfiguration: JobConfiguration {
    /// Fields (leaf keys) that may differ between a run and its resumption without changing what it computes, e.g.
    /// the checkpoint cadence (the output directory and the logging settings never count).
    static var resumeInsensitiveKeys: Set<String> { get }
    /// The output directory.
    var out: String { get }
    /// The model, adapter and tokenizer directories the run reads: the output may never be one of them.
    var inputs: [String] { get }
    /// Where metrics go besides OUT/metrics.jsonl.
    var logging: LoggingConfig { get }
}

extension RunConfiguration {
    public static var resumeInsensitiveKeys: Set<String> { [] }

    /// Settings that change the result and differ from `stored` (a checkpoint's), as "key old → new".
    public func changes(from stored: Self) throws -> [String] {
        let (old, new) = (try ConfigCoding.tree(stored).leaves, try ConfigCoding.tree(self).leaves)
        let ignored = Self.resumeInsensitiveKeys.union(["out", "tensorboard", "logging_dir"])
        return Set(old.keys).union(new.keys).subtracting(ignored).sorted().compactMap { key in
            let (before, after) = (old[key] ?? .null, new[key] ?? .null)
            return before == after ? nil : "\(key) \(before) → \(after)"
        }
    }

    /// Writes the configuration as `run_config.json` into `directory`.
    public func write(to directory: URL) throws {
        try ConfigCoding.encode(self).write(to: directory.appendingPathComponent(runConfigFile), options: .atomic)
    }

    /// The configuration a run directory or checkpoint was written with, if it holds one.
    public static func stored(in directory: URL) throws -> Self? {
        let url = directory.appendingPathComponent(runConfigFile)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        do { return try ConfigCoding.decode(Self.self, from: Data(contentsOf: url)) } catch {
            throw JobError("\(url.path): not a \(command) configuration (\(error))")
        }
    }
}

/// The file in every checkpoint and output directory that holds the run's configuration.
public let runConfigFile = "run_config.json"

/// A run trained by gradient descent on a `TrainingTask`: its optimisation settings in one place.
public protocol GradientRunConfiguration: RunConfiguration {
    var training: TrainingConfig { get set }
}

extension PretrainConfig: GradientRunConfiguration {}

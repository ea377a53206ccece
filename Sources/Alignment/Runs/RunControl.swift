import Data
import Distributed
import Foundation

/// What a run reports while it works. `RunControl.onEvent` returns false to stop the run early.
public enum RunEvent: Sendable {
    /// A line for a person: data counts, "resuming at step N", "saved DIR".
    case message(String)
    case started(step: Int, totalSteps: Int)
    case stepEnded(step: Int, totalSteps: Int, metrics: [String: Double])
    case evaluated(step: Int, metrics: [String: Double])
    case checkpointSaved(step: Int, directory: URL)
}

/// How a caller drives a run: resume or start fresh, and where its events go.
public struct RunControl {
    /// Continue from the newest checkpoint in the output directory (a fresh run refuses a directory that holds one).
    public var resume: Bool
    /// Resume although the configuration differs from the checkpoint's in settings that change the result.
    public var allowConfigChange: Bool
    /// Start afresh in an output directory that holds a model or an earlier run, replacing them.
    public var overwrite: Bool
    /// Every event; return false to stop early (the model is saved as it is).
    public var onEvent: (RunEvent) -> Bool
    /// The ranks of a data-parallel job (`Launch.communicator()`); each trains on its share of every batch and rank 0
    /// writes the output. A caller whose run throws must `abort` the job, or the other ranks wait for it.
    public var communicator: any Communicator

    public init(resume: Bool = false, allowConfigChange: Bool = false, overwrite: Bool = false,
                communicator: any Communicator = SingleProcess(), onEvent: @escaping (RunEvent) -> Bool = { _ in true }) {
        (self.resume, self.allowConfigChange, self.overwrite, self.onEvent) = (resume, allowConfigChange, overwrite, onEvent)
        self.communicator = communicator
    }

    func log(_ message: String) { _ = onEvent(.message(message)) }
}

extension Communicator {
    /// This rank's part of every batch.
    public var shard: Shard { Shard(index: rank, count: size) }
}

/// What a finished run returns: enough for a report without reading its files back.
public struct RunResult: Codable, Sendable {
    /// The output directory.
    public var output: String
    /// Optimizer steps (PPO: iterations) the run has taken, resumed ones included.
    public var steps: Int
    /// The last value of every metric logged (training and held-out).
    public var metrics: [String: Double]
    /// Every line metrics.jsonl holds, with its "step" (TRL's `state.log_history`), resumed steps included.
    public var logHistory: [[String: Double]]
    /// Wall time of this invocation (a resumed run counts only its own part).
    public var seconds: Double
    /// The peak resident memory while this run worked (the whole process's where it cannot be reset, e.g. macOS).
    public var peakMemoryBytes: Int
    /// Why the run ended before its last step, if it did (a PPO stop rule, or the caller).
    public var stoppedEarly: String?
}

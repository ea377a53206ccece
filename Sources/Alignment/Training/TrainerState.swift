import Data
import Foundation

/// The loop's own record in a checkpoint and in a finished run's directory (`trainer_state.json`); the run's
/// configuration sits beside it in `run_config.json`.
public struct TrainerState: Codable, Sendable, Equatable {
    /// Steps taken so far (PPO: iterations).
    public var step: Int
    public var totalSteps: Int
    /// The algorithm, e.g. "sft".
    public var trainer: String

    public static let fileName = "trainer_state.json"

    public init(step: Int, totalSteps: Int, trainer: String) {
        (self.step, self.totalSteps, self.trainer) = (step, totalSteps, trainer)
    }

    public func write(to directory: URL) throws {
        try ConfigCoding.encode(self).write(to: directory.appendingPathComponent(Self.fileName), options: .atomic)
    }

    public static func read(from directory: URL) throws -> TrainerState {
        let url = directory.appendingPathComponent(fileName)
        do { return try ConfigCoding.decode(TrainerState.self, from: Data(contentsOf: url)) } catch {
            throw JobError("\(url.path): not a readable trainer state (\(error))")
        }
    }
}

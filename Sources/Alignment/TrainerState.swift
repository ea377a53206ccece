import Foundation

/// What a checkpoint records besides weights and optimizer moments (`trainer_state.json`).
public struct TrainerState: Codable, Sendable, Equatable {
    /// Optimizer steps taken so far.
    public var step: Int
    public var totalSteps: Int
    /// Micro-batches consumed so far (the data position to resume from).
    public var batchesSeen: Int
    public var config: TrainingConfig
    public var trainer: String

    public static let fileName = "trainer_state.json"

    public init(step: Int, totalSteps: Int, batchesSeen: Int, config: TrainingConfig, trainer: String) {
        (self.step, self.totalSteps, self.batchesSeen, self.config, self.trainer) = (step, totalSteps, batchesSeen, config, trainer)
    }

    public func write(to directory: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        try encoder.encode(self).write(to: directory.appendingPathComponent(Self.fileName), options: .atomic)
    }

    public static func read(from directory: URL) throws -> TrainerState {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(TrainerState.self, from: Data(contentsOf: directory.appendingPathComponent(fileName)))
    }
}

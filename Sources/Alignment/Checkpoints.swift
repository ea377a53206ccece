import Foundation
import Models
import NN
import Tensor

/// Resumable checkpoints under an output directory: `checkpoint-<step>/` holding the model (a Hugging Face
/// directory), `optimizer.safetensors` and `trainer_state.json`.
///
/// A checkpoint is written into a hidden temporary directory and renamed into place, so a killed run
/// leaves either a complete checkpoint or none; resuming picks the newest complete one.
public struct CheckpointStore: Sendable {
    public let output: URL
    public static let optimizerFile = "optimizer.safetensors"

    public init(output: URL) { self.output = output }

    public func directory(step: Int) -> URL {
        output.appendingPathComponent(String(format: "checkpoint-%06d", step))
    }

    /// Writes a checkpoint; `saveModel` writes the model files (full weights or an adapter) into a directory.
    public func save(step: Int, state: TrainerState, optimizer: any Optimizer,
                     named: [(name: String, parameter: Parameter)], saveModel: (URL) throws -> Void) throws -> URL {
        try saveAtomically(step: step) { temporary in
            try saveModel(temporary)
            try Safetensors.write(optimizer.stateTensors(named), to: temporary.appendingPathComponent(Self.optimizerFile))
            try state.write(to: temporary)
        }
    }

    /// Lets `write` fill a hidden temporary directory, then renames it to `checkpoint-<step>`.
    public func saveAtomically(step: Int, _ write: (URL) throws -> Void) throws -> URL {
        let files = FileManager.default
        let final = directory(step: step)
        let temporary = output.appendingPathComponent(".checkpoint-\(step)-\(UUID().uuidString).tmp")
        try files.createDirectory(at: temporary, withIntermediateDirectories: true)
        do {
            try write(temporary)
            if files.fileExists(atPath: final.path) { try files.removeItem(at: final) }
            try files.moveItem(at: temporary, to: final)
        } catch {
            try? files.removeItem(at: temporary)
            throw error
        }
        return final
    }

    /// The newest complete checkpoint (one holding `marker`), if any.
    public func latest(marker: String = TrainerState.fileName) -> URL? {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: output.path)) ?? []
        return names.filter { $0.hasPrefix("checkpoint-") }.sorted().reversed()
            .map { output.appendingPathComponent($0) }
            .first { FileManager.default.fileExists(atPath: $0.appendingPathComponent(marker).path) }
    }

    /// Restores the optimizer moments of a checkpoint.
    public func restoreOptimizer(_ optimizer: any Optimizer, from checkpoint: URL,
                                 named: [(name: String, parameter: Parameter)]) throws {
        let url = checkpoint.appendingPathComponent(Self.optimizerFile)
        let file = try SafetensorsFile(contentsOf: url)
        var tensors: [String: Tensor] = [:]
        for name in file.names { tensors[name] = try file.tensor(name) }
        try optimizer.restoreState(tensors, named)
    }

    /// Removes leftovers of checkpoints a killed run was writing.
    public func removeIncomplete() {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: output.path)) ?? []
        for name in names where name.hasPrefix(".checkpoint-") && name.hasSuffix(".tmp") {
            try? FileManager.default.removeItem(at: output.appendingPathComponent(name))
        }
    }
}

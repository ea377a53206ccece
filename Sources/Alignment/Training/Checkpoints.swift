import Foundation
import Tensor

/// Resumable checkpoints under an output directory: `checkpoint-<step>/` holding what the trainer saves (the
/// model as a Hugging Face directory or adapter, optimizer moments), `trainer_state.json` and `run_config.json`.
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

    /// The newest complete checkpoint whose trainer state reads, if any.
    public func latest() -> URL? { complete().first { (try? TrainerState.read(from: $0)) != nil } }

    /// Complete checkpoints newer than `latest()` whose trainer state does not read (a full disk, a hand edit).
    public func unreadable() -> [URL] { Array(complete().prefix { (try? TrainerState.read(from: $0)) == nil }) }

    /// Checkpoints renamed into place (so with their trainer state written), newest first.
    private func complete() -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: output.path)) ?? []
        return names.filter { $0.hasPrefix("checkpoint-") }.sorted().reversed()
            .map { output.appendingPathComponent($0) }
            .filter { FileManager.default.fileExists(atPath: $0.appendingPathComponent(TrainerState.fileName).path) }
    }

    /// Removes leftovers of checkpoints a killed run was writing.
    public func removeIncomplete() {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: output.path)) ?? []
        for name in names where name.hasPrefix(".checkpoint-") && name.hasSuffix(".tmp") {
            try? FileManager.default.removeItem(at: output.appendingPathComponent(name))
        }
    }

    /// Writes an optimizer's moments for `named` parameters.
    public static func saveOptimizer(_ optimizer: any Optimizer, named: [(name: String, parameter: Parameter)], to directory: URL) throws {
        try Safetensors.write(try optimizer.stateTensors(named), to: directory.appendingPathComponent(optimizerFile))
    }

    /// Restores what `saveOptimizer` wrote.
    public static func restoreOptimizer(_ optimizer: any Optimizer, named: [(name: String, parameter: Parameter)], from directory: URL) throws {
        let file = try SafetensorsFile(contentsOf: directory.appendingPathComponent(optimizerFile))
        var tensors: [String: Tensor] = [:]
        for name in file.names { tensors[name] = try file.tensor(name) }
        try optimizer.restoreState(tensors, named)
    }
}

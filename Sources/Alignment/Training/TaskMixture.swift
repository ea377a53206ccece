import Data
import Foundation
import Tensor

/// Several objectives on one set of parameters, trained together: each micro-batch adds up one micro-batch of every
/// member (each cycling through its own data), weighted. E.g. a user's adapter learning from their pairs (DPO), their
/// thumbs (KTO) and their corrections (SFT) at once.
public final class TaskMixture: TrainingTask {
    public let members: [(task: any TrainingTask, weight: Float)]

    /// Every member must train the same parameters (the first member's are the mixture's).
    public init(_ members: [(task: any TrainingTask, weight: Float)]) throws {
        guard let first = members.first else { throw JobError("a task mixture needs at least one task") }
        let parameters = first.task.trainableParameters.map { ObjectIdentifier($0.parameter) }
        guard members.allSatisfy({ $0.task.trainableParameters.map { ObjectIdentifier($0.parameter) } == parameters }) else {
            throw JobError("the tasks of a mixture must train the same parameters")
        }
        self.members = members
    }

    public var name: String { members.map(\.task.name).joined(separator: "+") }

    public var trainableParameters: [(name: String, parameter: Parameter)] { members[0].task.trainableParameters }

    /// The longest member's epoch: every example of every member is seen at least once per epoch.
    public var microBatchesPerEpoch: Int { members.map(\.task.microBatchesPerEpoch).max()! }

    /// The members' weighted sum; their metrics are kept under `<task>/<metric>` with `<task>/loss`.
    /// Members may weigh their shards differently, so one share cannot stand for the mixture's.
    public var splitsAcrossRanks: Bool { false }

    public func loss(microBatch index: Int, shard: Shard) throws -> MicroBatchLoss {
        var total: Tensor?, tokens = 0, metrics: [String: Double] = [:]
        for (task, weight) in members {
            let part = try task.loss(microBatch: index, shard: shard)
            let weighted = try part.loss * weight
            total = try total.map { try $0 + weighted } ?? weighted
            tokens += part.tokens
            metrics["\(task.name)/loss"] = Double(try part.loss.item)
            for (key, value) in part.metrics { metrics["\(task.name)/\(key)"] = value }
        }
        return MicroBatchLoss(loss: total!, tokens: tokens, metrics: metrics)
    }

    public func evaluate() throws -> [String: Double] {
        var metrics: [String: Double] = [:]
        for (task, _) in members {
            for (key, value) in try task.evaluate() { metrics["\(task.name)/\(key)"] = value }
        }
        return metrics
    }

    public func saveModel(to directory: URL) throws { try members[0].task.saveModel(to: directory) }

    public func loadModel(from directory: URL) throws { try members[0].task.loadModel(from: directory) }
}

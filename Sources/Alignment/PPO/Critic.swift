import Foundation
import Models
import NN
import Tensor

/// Where PPO's value estimates come from: a reward model's backbone and head (TRL's default for decoder-only
/// policies), or a value head on a policy-family trunk (`ValueHeadModel`, e.g. on T5's decoder states).
public protocol Critic: Module {
    /// Values [size, responseLength] at the rollout's response positions.
    func responseValues(_ batch: RolloutBatch) throws -> Tensor
    /// The same read from the policy's response hidden states, when this critic is a head on them (nil otherwise):
    /// the policy's forward pass then serves both.
    func responseValues(policyStates: Tensor, _ batch: RolloutBatch) throws -> Tensor?
    func save(to directory: URL) throws
    func loadWeights(from directory: URL) throws
}

extension Critic {
    public func responseValues(policyStates: Tensor, _ batch: RolloutBatch) throws -> Tensor? { nil }
}

extension RewardModel: Critic {
    /// The head's output at every column predicting a response token (TRL's critic reads the same columns).
    public func responseValues(_ batch: RolloutBatch) throws -> Tensor {
        let scores = try score(try backbone.responseHiddenStates(batch))
        return try scores.gather(lastAxis: Array(repeating: positiveLabel, count: batch.size * batch.responseLength))
    }

    public func save(to directory: URL) throws { try ModelDirectory.save(self, to: directory, padTokenID: padTokenID) }
    public func loadWeights(from directory: URL) throws { try ModelDirectory.loadWeights(into: self, from: directory) }
}

extension ValueHeadModel: Critic {
    public func responseValues(policyStates: Tensor, _ batch: RolloutBatch) throws -> Tensor? {
        sharesTrunk ? try values(states: policyStates, batch) : nil
    }

    public func save(to directory: URL) throws { try ModelDirectory.save(self, to: directory) }
    public func loadWeights(from directory: URL) throws { try ModelDirectory.loadWeights(into: self, from: directory) }
}

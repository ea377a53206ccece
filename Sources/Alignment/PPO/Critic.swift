import Foundation
import Models
import NN
import Tensor

/// Where PPO's value estimates come from: a reward model's backbone and head (TRL's default for decoder-only
/// policies), or a value head on a policy-family trunk (`ValueHeadModel`, e.g. on T5's decoder states).
public protocol Critic: Module {
    /// Values [size, responseLength] at the rollout's response positions. `policyStates` are the policy's response
    /// hidden states for the same batch: a head on the policy reads them (its forward pass serves both), a critic
    /// with a trunk of its own runs that instead.
    func responseValues(_ batch: RolloutBatch, policyStates: Tensor) throws -> Tensor
    func save(to directory: URL) throws
    func loadWeights(from directory: URL) throws
}

extension RewardModel: Critic {
    public func responseValues(_ batch: RolloutBatch, policyStates: Tensor) throws -> Tensor { try responseValues(batch) }

    /// The head's output at every column predicting a response token (TRL's critic reads the same columns).
    public func responseValues(_ batch: RolloutBatch) throws -> Tensor {
        let scores = try score(try backbone.responseHiddenStates(batch))
        return try scores.gather(lastAxis: Array(repeating: positiveLabel, count: batch.size * batch.responseLength))
    }

    public func save(to directory: URL) throws { try ModelDirectory.save(self, to: directory, padTokenID: padTokenID) }
    public func loadWeights(from directory: URL) throws { try ModelDirectory.loadWeights(into: self, from: directory) }
}

extension ValueHeadModel: Critic {
    public func responseValues(_ batch: RolloutBatch, policyStates: Tensor) throws -> Tensor {
        sharesTrunk ? try values(states: policyStates, batch) : try responseValues(batch)
    }

    public func save(to directory: URL) throws { try ModelDirectory.save(self, to: directory) }
    public func loadWeights(from directory: URL) throws { try ModelDirectory.loadWeights(into: self, from: directory) }
}

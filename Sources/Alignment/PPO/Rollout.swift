import Data
import Models
import NN
import Tensor

extension Tensor {
    /// The given rows of a [batch, L] tensor, detached: a minibatch's share of rollout-time values.
    func rows(_ rows: [Int]) throws -> Tensor {
        try Tensor.embedding(detached(), ids: rows, shape: [rows.count])
    }
}

import NN
import Tensor

/// Queries and sampled responses laid out as PPO scores them: each row is the query left-padded to a common
/// length, then the response right-padded to a common length, so response token t sits at column
/// `queryLength + t` in every row.
public struct RolloutBatch: Sendable {
    public let size: Int
    public let queryLength: Int
    public let responseLength: Int
    /// [size · (queryLength + responseLength)]
    public let ids: [Int]
    /// 1 for real tokens, 0 for padding, same layout as `ids`.
    public let keyMask: [Float]
    /// Each token's position counted from its row's first real token.
    public let positions: [Int]
    /// [size · responseLength]: 1 where the response has a token.
    public let responseMask: [Float]
    public let responses: [[Int]]
    /// The queries as given, unpadded (an encoder-decoder model encodes them on their own).
    public let queries: [[Int]]

    /// `queryLength`/`responseLength` default to the longest query and response; larger values keep a
    /// minibatch in the same columns as the rollout it was cut from.
    public init(queries: [[Int]], responses: [[Int]], padID: Int, queryLength: Int? = nil, responseLength: Int? = nil) {
        size = queries.count
        self.queryLength = max(queryLength ?? 0, queries.map(\.count).max() ?? 0)
        self.responseLength = max(responseLength ?? 1, responses.map(\.count).max() ?? 0)
        self.responses = responses
        self.queries = queries
        var ids: [Int] = [], mask: [Float] = [], positions: [Int] = [], responseMask: [Float] = []
        for (query, response) in zip(queries, responses) {
            let left = self.queryLength - query.count, right = self.responseLength - response.count
            ids += [Int](repeating: padID, count: left) + query + response + [Int](repeating: padID, count: right)
            mask += [Float](repeating: 0, count: left) + [Float](repeating: 1, count: query.count + response.count)
                + [Float](repeating: 0, count: right)
            positions += [Int](repeating: 0, count: left) + Array(0..<(query.count + response.count)) + [Int](repeating: 0, count: right)
            responseMask += [Float](repeating: 1, count: response.count) + [Float](repeating: 0, count: right)
        }
        (self.ids, self.keyMask, self.positions, self.responseMask) = (ids, mask, positions, responseMask)
    }

    public var length: Int { queryLength + responseLength }

    /// Response ids [size · responseLength], padding replaced by `fill` (a valid id to gather at).
    public func paddedResponses(fill: Int = 0) -> [Int] {
        responses.flatMap { $0 + [Int](repeating: fill, count: responseLength - $0.count) }
    }

    /// Response ids [size · responseLength] with `Tensor.ignoreIndex` at padding: the targets of the response positions.
    public var responseTargets: [Int] {
        responses.flatMap { $0 + [Int](repeating: Tensor.ignoreIndex, count: responseLength - $0.count) }
    }

    /// `ids` as the columns predicting response tokens read them: each row's last response token, from which nothing
    /// is predicted, is masked out like padding (a causal model's states before it do not depend on it), and the last
    /// column dropped. So a row of exactly the model's positions plus one scores, as lm-eval's log-likelihoods do.
    public var predictingInputs: (ids: [Int], length: Int, context: AttentionContext) {
        var (mask, positions) = (keyMask, self.positions)
        for (row, response) in responses.enumerated() where !response.isEmpty {
            let last = row * length + queryLength + response.count - 1
            (mask[last], positions[last]) = (0, 0)
        }
        let width = length - 1
        func keep<T>(_ values: [T]) -> [T] { (0..<size).flatMap { values[($0 * length)..<($0 * length + width)] } }
        let keptMask = keep(mask)
        return (keep(ids), width, AttentionContext(positions: keep(positions), keyMask: keptMask.contains(0) ? keptMask : nil))
    }

    /// Per-row hidden states for the columns that predict each response token (queryLength − 1 … length − 2).
    public func predictingColumns(_ hidden: Tensor) throws -> Tensor {
        try hidden.slice(axis: 1, (queryLength - 1)..<(length - 1))
    }
}

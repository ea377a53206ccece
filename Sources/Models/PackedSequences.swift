import NN
import Tensor

/// Groups of sequences that share a prefix (one prompt's completions), packed so each prefix runs through a decoder
/// once: a row holds the group's longest common prefix, then every sequence's remainder. A remainder's tokens see the
/// prefix and their own earlier tokens only (a score bias hides the other remainders) and their positions continue
/// the prefix's, so each token's hidden state is the one it gets in an unpacked row. Rows are right-padded.
public struct PackedSequences {
    /// [rows, length] token ids.
    public let ids: [Int]
    public let rows: Int, length: Int
    /// Positions, padding mask and the bias that keeps remainders apart.
    public let context: AttentionContext
    /// The sequences in the order given, group after group.
    public let sequences: [[Int]]
    /// Where each sequence lies: its row, its prefix's length, and the row position of its remainder's first token.
    private let placement: [(row: Int, prefix: Int, remainder: Int)]

    public init(groups: [[[Int]]], padID: Int) throws {
        var rowsOfIDs: [[Int]] = [], positions: [[Int]] = [], segments: [[Int]] = []
        var placement: [(row: Int, prefix: Int, remainder: Int)] = []
        for group in groups where !group.isEmpty {
            let prefix = Self.commonPrefixLength(group)
            var (ids, rowPositions) = (Array(group[0][..<prefix]), Array(0..<prefix))
            var rowSegments = [Int](repeating: 0, count: prefix)
            for (index, sequence) in group.enumerated() {
                placement.append((rowsOfIDs.count, prefix, ids.count))
                ids += sequence[prefix...]
                rowPositions += prefix..<sequence.count
                rowSegments += [Int](repeating: index + 1, count: sequence.count - prefix)
            }
            rowsOfIDs.append(ids)
            positions.append(rowPositions)
            segments.append(rowSegments)
        }
        let length = rowsOfIDs.map(\.count).max() ?? 0
        let padding = { (row: [Int]) in length - row.count }
        ids = rowsOfIDs.flatMap { $0 + [Int](repeating: padID, count: padding($0)) }
        (rows, self.length, sequences, self.placement) = (rowsOfIDs.count, length, groups.flatMap { $0 }, placement)
        let keyMask = rowsOfIDs.flatMap { [Float](repeating: 1, count: $0.count) + [Float](repeating: 0, count: padding($0)) }
        let bias = segments.contains { $0.max() ?? 0 > 1 } ? try Self.separatingBias(segments, length: length) : nil
        context = AttentionContext(positions: positions.flatMap { $0 + [Int](repeating: 0, count: length - $0.count) },
                                   keyMask: keyMask.contains(0) ? keyMask : nil, scoreBias: bias)
    }

    /// Index into the packed [rows·length] layout of token `token` of sequence `sequence`.
    public func index(ofToken token: Int, inSequence sequence: Int) -> Int {
        let place = placement[sequence]
        return place.row * length + (token < place.prefix ? token : place.remainder + token - place.prefix)
    }

    /// Tokens all of `group` starts with; a lone sequence is all prefix.
    static func commonPrefixLength(_ group: [[Int]]) -> Int {
        var length = group.map(\.count).min() ?? 0
        for sequence in group.dropFirst() {
            length = zip(group[0].prefix(length), sequence).prefix { $0 == $1 }.count
        }
        return length
    }

    /// [rows, 1, length, length]: 0 where a query may see a key (the prefix, its own remainder, anything for padding
    /// queries, whose outputs nobody reads), a large negative number elsewhere.
    static func separatingBias(_ segments: [[Int]], length: Int) throws -> Tensor {
        var bias = [Float](repeating: 0, count: segments.count * length * length)
        for (row, rowSegments) in segments.enumerated() {
            for (query, querySegment) in rowSegments.enumerated() where querySegment > 0 {
                let base = (row * length + query) * length
                for (key, keySegment) in rowSegments.enumerated().prefix(query) where keySegment != 0 && keySegment != querySegment {
                    bias[base + key] = -1e9
                }
            }
        }
        return try Tensor(shape: [segments.count, 1, length, length], scalars: bias)
    }
}

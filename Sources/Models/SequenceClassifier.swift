import Foundation
import Tensor

/// Text in, one logit per label out: an encoder classifier (BERT, RoBERTa, DeBERTa-v2) or a decoder's
/// `*ForSequenceClassification` (RLHFKit's reward models). `rlhf classify`, classifier rewards and the
/// toxicity evaluation use any of them through this.
public protocol SequenceClassifier: AnyObject {
    /// One name per logit, in order (config.json's `id2label`).
    var labelNames: [String] { get }
    /// The longest sequence of ids it reads (special tokens included), nil when unbounded.
    var maxTokens: Int? { get }
    /// Logits [B, labels] for `ids` laid out [B, T], right-padded; `keyMask` holds 1 for real tokens, 0 for padding.
    func logits(_ ids: [Int], batch: Int, length: Int, keyMask: [Float]) throws -> Tensor
}

extension SequenceClassifier {
    /// The index of a label given by its `id2label` name or its index; an unknown one is a line listing the labels.
    public func labelIndex(_ label: String) throws -> Int {
        if let index = labelNames.firstIndex(of: label) { return index }
        if let index = Int(label), labelNames.indices.contains(index) { return index }
        let known = labelNames.enumerated().map { "\($0.offset) \"\($0.element)\"" }.joined(separator: ", ")
        throw ModelError.unknownLabel("no label \"\(label)\"; the classifier's labels are \(known)")
    }

    /// Logits [rows, labels] of tokenized texts, in batches of `batchSize` right-padded rows (no gradient kept).
    public func classify(_ rows: [[Int]], batchSize: Int = 16, padID: Int = 0) throws -> [[Float]] {
        var out: [[Float]] = []
        for start in stride(from: 0, to: rows.count, by: max(batchSize, 1)) {
            let chunk = rows[start..<min(start + max(batchSize, 1), rows.count)]
            let length = max(chunk.map(\.count).max() ?? 1, 1)
            var ids: [Int] = [], mask: [Float] = []
            for row in chunk {
                guard !row.isEmpty else { throw ModelError.generation("a text with no tokens cannot be classified") }
                ids += row + Array(repeating: padID, count: length - row.count)
                mask += Array(repeating: 1, count: row.count) + Array(repeating: 0, count: length - row.count)
            }
            let logits = try withNoGrad { try self.logits(ids, batch: chunk.count, length: length, keyMask: mask) }.scalars
            let labels = labelNames.count
            out += (0..<chunk.count).map { Array(logits[($0 * labels)..<(($0 + 1) * labels)]) }
        }
        return out
    }
}

/// Softmax of one row of logits, in Double for accuracy.
public func probabilities(_ logits: [Float]) -> [Float] {
    guard let top = logits.max() else { return [] }
    let exps = logits.map { Foundation.exp(Double($0 - top)) }
    let total = exps.reduce(0, +)
    return exps.map { Float($0 / total) }
}

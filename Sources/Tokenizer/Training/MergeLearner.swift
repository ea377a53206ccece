/// The merge loop of `tokenizers`' `BpeTrainer`, step for step, so that the same corpus gives the same merges:
/// count every adjacent pair of symbols (weighted by how often its word occurs), then repeatedly merge the most
/// frequent pair into a new token, ties going to the smallest (left id, right id).
///
/// Merging only visits the words that contain the pair (each queued pair carries their indices) and updates the
/// counts of the pairs around each replacement; the queue is refreshed lazily: an entry whose count changed
/// since it was queued is put back with the current count when it comes out.
struct MergeLearner {
    /// The token of each id; merges add to it.
    private(set) var vocabulary: [String]
    /// The merged pairs of ids, in the order learned.
    private(set) var merges: [PairKey] = []
    private var idForToken: [ExactString: Int]
    /// Each distinct word as its current symbol ids, and how often it occurs.
    private var words: [[Int32]]
    private let wordCounts: [Int]
    private var pairCounts: [PairKey: Int] = [:]
    private var queue = BinaryHeap<PairCandidate>()

    init(vocabulary: [String], words: [[Int32]], counts: [Int]) {
        self.vocabulary = vocabulary
        idForToken = Dictionary(vocabulary.enumerated().map { (ExactString($1), $0) }, uniquingKeysWith: { first, _ in first })
        self.words = words
        wordCounts = counts
        var wordsWithPair: [PairKey: [Int32]] = [:]
        for (index, symbols) in words.enumerated() {
            for (left, right) in zip(symbols, symbols.dropFirst()) {
                let pair = PairKey(Int(left), Int(right))
                pairCounts[pair, default: 0] += counts[index]
                wordsWithPair[pair, default: []].appendIfNew(Int32(index))
            }
        }
        for (pair, words) in wordsWithPair {
            queue.push(PairCandidate(count: pairCounts[pair]!, pair: pair, words: words))
        }
    }

    /// Merges until the vocabulary has `vocabularySize` tokens or no pair occurs `minFrequency` times (and at
    /// least once); `progress` is called after each merge.
    mutating func learn(vocabularySize: Int, minFrequency: Int, progress: (_ merges: Int) -> Void) {
        while vocabulary.count < vocabularySize, var best = queue.pop() {
            let count = pairCounts[best.pair] ?? 0
            if best.count != count {
                best.count = count
                if count > 0 { queue.push(best) }
                continue
            }
            guard count >= max(minFrequency, 1) else { break }
            merge(best)
            progress(merges.count)
        }
    }

    private mutating func merge(_ best: PairCandidate) {
        let (left, right) = (best.pair.left, best.pair.right)
        // The token may already exist, reached by other merges ("a"+"bc" and "ab"+"c"): it keeps its id.
        let token = vocabulary[left] + vocabulary[right]
        let mergedID = idForToken[ExactString(token)] ?? {
            vocabulary.append(token)
            idForToken[ExactString(token)] = vocabulary.count - 1
            return vocabulary.count - 1
        }()
        merges.append(best.pair)

        var changes: [(pair: PairKey, change: Int)] = []
        var wordsWithNewPair: [PairKey: [Int32]] = [:]
        for word in best.words {
            changes.removeAll(keepingCapacity: true)
            words[Int(word)].replace(Int32(left), Int32(right), with: Int32(mergedID), changes: &changes)
            for (pair, change) in changes {
                pairCounts[pair, default: 0] += change * wordCounts[Int(word)]
                if change > 0 { wordsWithNewPair[pair, default: []].appendIfNew(word) }
            }
        }
        for (pair, words) in wordsWithNewPair {
            let count = pairCounts[pair]!
            if count > 0 { queue.push(PairCandidate(count: count, pair: pair, words: words)) }
        }
    }
}

/// A pair waiting in the training queue.
struct PairCandidate: HeapOrdered {
    var count: Int
    let pair: PairKey
    /// The words the pair was counted in when queued: the only ones its merge visits.
    let words: [Int32]

    /// The most frequent pair first; on a tie the smaller (left, right), as in tokenizers.
    func precedes(_ other: PairCandidate) -> Bool {
        count != other.count ? count > other.count : pair.packed < other.pair.packed
    }
}

extension PairKey {
    var left: Int { Int(packed >> 32) }
    var right: Int { Int(packed & 0xFFFF_FFFF) }
}

extension [Int32] {
    /// Adds a word index unless it was just added (words are visited in order, so this keeps each once).
    fileprivate mutating func appendIfNew(_ word: Int32) {
        if last != word { append(word) }
    }

    /// Replaces each occurrence of `left` `right`, scanning left to right, with `merged`, and reports the pairs
    /// around each replacement that go (-1) and come (+1), as tokenizers' `Word::merge` does; the replaced pair
    /// itself is not reported.
    fileprivate mutating func replace(_ left: Int32, _ right: Int32, with merged: Int32,
                                      changes: inout [(pair: PairKey, change: Int)]) {
        var read = 0
        var write = 0
        while read < count {
            guard read + 1 < count, self[read] == left, self[read + 1] == right else {
                self[write] = self[read]
                write += 1
                read += 1
                continue
            }
            if write > 0 {
                changes.append((PairKey(Int(self[write - 1]), Int(left)), -1))
                changes.append((PairKey(Int(self[write - 1]), Int(merged)), 1))
            }
            if read + 2 < count {
                changes.append((PairKey(Int(right), Int(self[read + 2])), -1))
                changes.append((PairKey(Int(merged), Int(self[read + 2])), 1))
            }
            self[write] = merged
            write += 1
            read += 2
        }
        removeLast(count - write)
    }
}

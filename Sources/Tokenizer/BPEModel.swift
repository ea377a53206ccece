import Synchronization

/// Byte-pair encoding: a word starts as one symbol per character and adjacent pairs are merged in
/// the order of the `merges` list until no listed pair is left.
final class BPEModel: TokenizerModel {
    private let idForToken: [ExactString: Int]
    private let tokenForID: [String?]
    /// Ids of the single-character tokens, the starting symbols of every word.
    private let idForScalar: [Unicode.Scalar: Int]
    /// Pair of symbol ids → (rank in the merges list, id of the merged token).
    private let merges: [PairKey: Merge]
    private let unknownID: Int?
    /// Ids of the `<0x00>`…`<0xFF>` tokens when `byte_fallback` is on.
    private let byteFallbackIDs: [Int?]?
    private let fusesUnknown: Bool
    private let ignoresMerges: Bool
    private let continuingSubwordPrefix: String?
    private let endOfWordSuffix: String?
    private let cache = Mutex<[ExactString: [Int]]>([:])

    /// The Rust library's limits: it stops caching at 10,000 words and never caches long ones.
    private static let cacheCapacity = 10_000
    private static let longestCachedWord = 256

    init(_ json: JSON) throws {
        let context = "model BPE"
        guard let vocab = json["vocab"]?.object else { throw TokenizerError("\(context): missing object \"vocab\"") }
        var idForToken: [ExactString: Int] = [:]
        idForToken.reserveCapacity(vocab.count)
        var idForScalar: [Unicode.Scalar: Int] = [:]
        var tokenForID: [String?] = []
        for (token, value) in vocab {
            guard let id = value.int, id >= 0 else { throw TokenizerError("\(context): id of \(token.debugDescription) is not a non-negative integer") }
            idForToken[ExactString(token)] = id
            if token.unicodeScalars.count == 1 { idForScalar[token.unicodeScalars.first!] = id }
            if id >= tokenForID.count { tokenForID += Array(repeating: nil, count: id + 1 - tokenForID.count) }
            tokenForID[id] = token
        }
        self.idForToken = idForToken
        self.idForScalar = idForScalar
        self.tokenForID = tokenForID

        let prefix = json["continuing_subword_prefix"]?.string
        continuingSubwordPrefix = prefix
        endOfWordSuffix = json["end_of_word_suffix"]?.string
        var merges: [PairKey: Merge] = [:]
        let mergeList = try json.requiredArray("merges", in: context)
        merges.reserveCapacity(mergeList.count)
        for (rank, entry) in mergeList.enumerated() {
            let pair = try Self.mergePair(entry, in: context)
            var right = pair.right
            if let prefix, right.utf8.starts(with: prefix.utf8) { right = String(right.utf8.dropFirst(prefix.utf8.count))! }
            guard let leftID = idForToken[ExactString(pair.left)], let rightID = idForToken[ExactString(pair.right)],
                  let mergedID = idForToken[ExactString(pair.left + right)]
            else { throw TokenizerError("\(context): merge \"\(pair.left) \(pair.right)\" uses a token missing from the vocabulary") }
            merges[PairKey(leftID, rightID)] = Merge(rank: Int32(rank), mergedID: Int32(mergedID))
        }
        self.merges = merges

        if let unknown = json["unk_token"]?.string {
            guard let id = idForToken[ExactString(unknown)] else { throw TokenizerError("\(context): unk_token \(unknown.debugDescription) is not in the vocabulary") }
            unknownID = id
        } else {
            unknownID = nil
        }
        byteFallbackIDs = json["byte_fallback"]?.bool == true
            ? (0...255).map { idForToken[ExactString(byteFallbackToken($0))] } : nil
        fusesUnknown = json["fuse_unk"]?.bool ?? false
        ignoresMerges = json["ignore_merges"]?.bool ?? false
    }

    /// A merge is written `"a b"` (older files) or `["a", "b"]` (tokenizers ≥ 0.20).
    private static func mergePair(_ entry: JSON, in context: String) throws -> (left: String, right: String) {
        if let parts = entry.array, parts.count == 2, let left = parts[0].string, let right = parts[1].string {
            return (left, right)
        }
        if let line = entry.string {
            let parts = line.split(separator: " ", omittingEmptySubsequences: false)
            if parts.count == 2 { return (String(parts[0]), String(parts[1])) }
        }
        throw TokenizerError("\(context): invalid merge \(entry)")
    }

    var vocabularySize: Int { idForToken.count }

    func id(of token: String) -> Int? { idForToken[ExactString(token)] }

    func token(of id: Int) -> String? { tokenForID.indices.contains(id) ? tokenForID[id] : nil }

    func tokenize(_ word: String, into ids: inout [Int]) {
        if word.isEmpty { return }
        if ignoresMerges, let id = idForToken[ExactString(word)] {
            ids.append(id)
            return
        }
        let cacheable = word.utf8.count <= Self.longestCachedWord
        let key = ExactString(word)
        if cacheable, let cached = cache.withLock({ $0[key] }) {
            ids += cached
            return
        }
        var symbols = initialSymbols(word)
        applyMerges(to: &symbols)
        ids += symbols
        if cacheable {
            cache.withLock { cache in
                if cache.count < Self.cacheCapacity { cache[key] = symbols }
            }
        }
    }

    /// One id per character; characters outside the vocabulary become their UTF-8 bytes' fallback
    /// tokens when all of those exist, otherwise the unknown token (runs fused when `fuse_unk`).
    private func initialSymbols(_ word: String) -> [Int] {
        var symbols: [Int] = []
        symbols.reserveCapacity(word.utf8.count)
        var pendingUnknown: Int?
        let scalars = word.unicodeScalars
        var index = scalars.startIndex
        while index < scalars.endIndex {
            let scalar = scalars[index]
            let isFirst = index == scalars.startIndex
            index = scalars.index(after: index)
            let isLast = index == scalars.endIndex
            var symbol = String(scalar)
            let id: Int?
            if continuingSubwordPrefix == nil, endOfWordSuffix == nil {
                id = idForScalar[scalar]
            } else {
                if !isFirst, let prefix = continuingSubwordPrefix { symbol = prefix + symbol }
                if isLast, let suffix = endOfWordSuffix { symbol += suffix }
                id = idForToken[ExactString(symbol)]
            }
            if let id {
                if let unknown = pendingUnknown { symbols.append(unknown) }
                pendingUnknown = nil
                symbols.append(id)
                continue
            }
            if let byteIDs = byteFallbackIDs {
                let fallback = symbol.utf8.map { byteIDs[Int($0)] }
                if fallback.allSatisfy({ $0 != nil }) {
                    // Like the Rust library, byte tokens do not flush a pending unknown token first.
                    symbols += fallback.map { $0! }
                    continue
                }
            }
            guard let unknownID else { continue }
            if let unknown = pendingUnknown, !fusesUnknown { symbols.append(unknown) }
            pendingUnknown = unknownID
        }
        if let unknown = pendingUnknown { symbols.append(unknown) }
        return symbols
    }

    /// Merges the lowest-ranked adjacent pair first (leftmost on ties), with a priority queue of
    /// candidate pairs over a linked list of symbols; entries made stale by earlier merges are skipped.
    private func applyMerges(to symbols: inout [Int]) {
        let count = symbols.count
        guard count > 1 else { return }
        var previous = Array(-1..<count - 1)
        var next = Array(1...count)
        var removed = [Bool](repeating: false, count: count)
        var queue = BinaryHeap<MergeCandidate>()
        func enqueuePair(at position: Int) {
            let right = next[position]
            guard right < count, let merge = merges[PairKey(symbols[position], symbols[right])] else { return }
            queue.push(MergeCandidate(rank: merge.rank, position: Int32(position), mergedID: merge.mergedID))
        }
        for position in 0..<count - 1 { enqueuePair(at: position) }
        while let candidate = queue.pop() {
            let position = Int(candidate.position)
            let right = next[position]
            guard !removed[position], right < count,
                  merges[PairKey(symbols[position], symbols[right])]?.mergedID == candidate.mergedID
            else { continue }
            symbols[position] = Int(candidate.mergedID)
            removed[right] = true
            next[position] = next[right]
            if next[right] < count { previous[next[right]] = position }
            if previous[position] >= 0 { enqueuePair(at: previous[position]) }
            enqueuePair(at: position)
        }
        symbols = symbols.indices.compactMap { removed[$0] ? nil : symbols[$0] }
    }
}

func byteFallbackToken(_ byte: Int) -> String {
    let hex = String(byte, radix: 16, uppercase: true)
    return "<0x\(hex.count == 1 ? "0" + hex : hex)>"
}

struct PairKey: Hashable {
    let packed: UInt64
    init(_ left: Int, _ right: Int) { packed = UInt64(UInt32(truncatingIfNeeded: left)) << 32 | UInt64(UInt32(truncatingIfNeeded: right)) }
}

struct Merge {
    let rank: Int32
    let mergedID: Int32
}

struct MergeCandidate: HeapOrdered {
    let rank: Int32
    let position: Int32
    let mergedID: Int32

    func precedes(_ other: MergeCandidate) -> Bool {
        rank != other.rank ? rank < other.rank : position < other.position
    }
}

/// SentencePiece's unigram language model: of all the ways to spell a word with vocabulary pieces,
/// the one whose pieces' log-probabilities (the vocabulary scores) add up highest, found by Viterbi
/// over the word's bytes. A character no piece starts with costs the lowest score minus 10 and
/// becomes the unknown token; adjacent unknown characters are fused into one, which becomes byte
/// tokens instead when `byte_fallback` is on and all its bytes have one.
struct UnigramModel: TokenizerModel {
    /// What the Rust library charges for an unknown character, below the lowest score.
    static let unknownPenalty = 10.0

    private let pieces: [(token: String, score: Double)]
    private let idForToken: [ExactString: Int]
    private let trie: ByteTrie
    private let unknownID: Int?
    private let unknownScore: Double
    /// Ids of the `<0x00>`…`<0xFF>` tokens when `byte_fallback` is on.
    private let byteFallbackIDs: [Int?]?

    init(_ json: JSON) throws {
        let context = "model Unigram"
        var pieces: [(token: String, score: Double)] = []
        for entry in try json.requiredArray("vocab", in: context) {
            guard let pair = entry.array, pair.count == 2, let token = pair[0].string, let score = pair[1].double else {
                throw TokenizerError("\(context): vocab entries must be [token, score]")
            }
            pieces.append((token, score))
        }
        guard !pieces.isEmpty else { throw TokenizerError("\(context): empty vocabulary") }
        self.pieces = pieces
        var idForToken: [ExactString: Int] = [:]
        idForToken.reserveCapacity(pieces.count)
        // A token listed twice keeps its last id, as in the Rust library's map.
        for (id, piece) in pieces.enumerated() { idForToken[ExactString(piece.token)] = id }
        self.idForToken = idForToken
        trie = ByteTrie(idForToken.map { (Array($0.key.string.utf8), $0.value) })
        if let unknown = json["unk_id"]?.int {
            guard pieces.indices.contains(unknown) else { throw TokenizerError("\(context): unk_id \(unknown) is outside the vocabulary") }
            unknownID = unknown
        } else {
            unknownID = nil
        }
        unknownScore = pieces.map(\.score).min()! - Self.unknownPenalty
        byteFallbackIDs = json["byte_fallback"]?.bool == true
            ? (0...255).map { idForToken[ExactString(byteFallbackToken($0))] } : nil
    }

    var vocabularySize: Int { pieces.count }

    func id(of token: String) -> Int? { idForToken[ExactString(token)] }

    func token(of id: Int) -> String? { pieces.indices.contains(id) ? pieces[id].token : nil }

    func tokenize(_ word: String, into ids: inout [Int]) {
        let bytes = Array(word.utf8)
        for range in bestSegmentation(bytes) {
            let text = String(decoding: bytes[range], as: UTF8.self)
            if let id = idForToken[ExactString(text)] {
                ids.append(id)
            } else if let byteIDs = byteFallbackIDs, bytes[range].allSatisfy({ byteIDs[Int($0)] != nil }) {
                ids += bytes[range].map { byteIDs[Int($0)]! }
            } else if let unknownID {
                ids.append(unknownID)
            }
        }
    }

    /// The byte ranges of the best path, runs of unknown characters fused into one range.
    func bestSegmentation(_ bytes: [UInt8]) -> [Range<Int>] {
        let size = bytes.count
        guard size > 0 else { return [] }
        // For each end position: the best path's score, where its last piece starts (-1: no path
        // yet) and that piece's id (-1: an unknown character).
        var bestScore = [Double](repeating: 0, count: size + 1)
        var startOfLast = [Int](repeating: -1, count: size + 1)
        var idOfLast = [Int](repeating: -1, count: size + 1)
        var start = 0
        while start < size {
            let scoreSoFar = bestScore[start]
            let characterLength = utf8Length(leadByte: bytes[start])
            var coversCharacter = false
            trie.forEachPrefix(of: bytes, from: start) { end, id in
                let score = pieces[id].score + scoreSoFar
                if startOfLast[end] < 0 || score > bestScore[end] {
                    bestScore[end] = score
                    startOfLast[end] = start
                    idOfLast[end] = id
                }
                if end - start == characterLength { coversCharacter = true }
            }
            let end = min(start + characterLength, size)
            if !coversCharacter {
                // Without an unknown token the Rust library fails; here the character is dropped.
                let score = (unknownID == nil ? 0 : unknownScore) + scoreSoFar
                if startOfLast[end] < 0 || score > bestScore[end] {
                    bestScore[end] = score
                    startOfLast[end] = start
                    idOfLast[end] = unknownID ?? -2
                }
            }
            start = end
        }
        var ranges: [Range<Int>] = []
        var end = size
        var unknownRunEnd: Int?
        while end > 0 {
            let start = startOfLast[end]
            let id = idOfLast[end]
            if id == -2 {
                // Dropped character (no unknown token): ends any fused run.
                if let runEnd = unknownRunEnd { ranges.append(end..<runEnd) }
                unknownRunEnd = nil
            } else if id == unknownID {
                if unknownRunEnd == nil { unknownRunEnd = end }
            } else {
                if let runEnd = unknownRunEnd { ranges.append(end..<runEnd) }
                unknownRunEnd = nil
                ranges.append(start..<end)
            }
            end = start
        }
        if let runEnd = unknownRunEnd { ranges.append(0..<runEnd) }
        return ranges.reversed()
    }
}

/// The length of the UTF-8 sequence that `leadByte` starts (1 for a stray continuation byte).
func utf8Length(leadByte: UInt8) -> Int {
    switch leadByte {
    case 0xF0...: 4
    case 0xE0...: 3
    case 0xC0...: 2
    default: 1
    }
}

/// The tokens of a vocabulary as a byte trie, for finding every token that starts at a position.
struct ByteTrie: Sendable {
    /// (node << 8 | byte) → child node; node 0 is the root.
    private var children: [UInt64: Int32] = [:]
    /// The id of the token that ends at each node, or -1.
    private var ids: [Int32] = [-1]

    init(_ entries: [([UInt8], Int)]) {
        for (bytes, id) in entries where !bytes.isEmpty {
            var node = 0
            for byte in bytes {
                let key = UInt64(node) << 8 | UInt64(byte)
                if let child = children[key] {
                    node = Int(child)
                } else {
                    ids.append(-1)
                    children[key] = Int32(ids.count - 1)
                    node = ids.count - 1
                }
            }
            ids[node] = Int32(id)
        }
    }

    /// Calls `body(end, id)` for each token that `bytes[start..<end]` spells, shortest first.
    func forEachPrefix(of bytes: [UInt8], from start: Int, _ body: (Int, Int) -> Void) {
        var node = 0
        var position = start
        while position < bytes.count, let child = children[UInt64(node) << 8 | UInt64(bytes[position])] {
            node = Int(child)
            position += 1
            if ids[node] >= 0 { body(position, Int(ids[node])) }
        }
    }
}

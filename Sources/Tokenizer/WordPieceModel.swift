/// BERT's WordPiece: a word is cut greedily into the longest vocabulary entries from the left, every
/// piece after the first spelled with the continuing-subword prefix ("##"). A word with a piece
/// that no entry covers, or longer than `max_input_chars_per_word` characters, is one unknown token.
struct WordPieceModel: TokenizerModel {
    private let idForToken: [ExactString: Int]
    private let tokenForID: [String?]
    private let unknownID: Int
    private let continuingSubwordPrefix: String
    private let maxInputCharsPerWord: Int

    init(_ json: JSON) throws {
        let context = "model WordPiece"
        guard let vocab = json["vocab"]?.object else { throw TokenizerError("\(context): missing object \"vocab\"") }
        (idForToken, tokenForID) = try vocabularyTables(vocab, in: context)
        let unknown = json["unk_token"]?.string ?? "[UNK]"
        guard let unknownID = idForToken[ExactString(unknown)] else {
            throw TokenizerError("\(context): unk_token \(unknown.debugDescription) is not in the vocabulary")
        }
        self.unknownID = unknownID
        continuingSubwordPrefix = json["continuing_subword_prefix"]?.string ?? "##"
        maxInputCharsPerWord = json["max_input_chars_per_word"]?.int ?? 100
    }

    var vocabularySize: Int { idForToken.count }

    func id(of token: String) -> Int? { idForToken[ExactString(token)] }

    func token(of id: Int) -> String? { tokenForID.indices.contains(id) ? tokenForID[id] : nil }

    func tokenize(_ word: String, into ids: inout [Int]) {
        if word.isEmpty { return }
        let scalarCount = word.unicodeScalars.count
        if scalarCount > maxInputCharsPerWord {
            ids.append(unknownID)
            return
        }
        let bytes = Array(word.utf8)
        // Byte offsets of the character boundaries, the only places a piece may start or end.
        var boundaries = [0]
        boundaries.reserveCapacity(scalarCount + 1)
        for scalar in word.unicodeScalars { boundaries.append(boundaries.last! + UTF8.width(scalar)) }

        var pieces: [Int] = []
        var start = 0
        while start < scalarCount {
            var end = scalarCount
            var found: Int?
            while end > start {
                let text = String(decoding: bytes[boundaries[start]..<boundaries[end]], as: UTF8.self)
                if let id = idForToken[ExactString(start > 0 ? continuingSubwordPrefix + text : text)] {
                    found = id
                    break
                }
                end -= 1
            }
            guard let id = found else {
                ids.append(unknownID)
                return
            }
            pieces.append(id)
            start = end
        }
        ids += pieces
    }
}

/// Id ↔ token tables of a `{"token": id}` vocabulary.
func vocabularyTables(_ vocab: [(key: String, value: JSON)], in context: String) throws
    -> (idForToken: [ExactString: Int], tokenForID: [String?]) {
    var idForToken: [ExactString: Int] = [:]
    idForToken.reserveCapacity(vocab.count)
    var tokenForID: [String?] = []
    for (token, value) in vocab {
        guard let id = value.int, id >= 0 else {
            throw TokenizerError("\(context): id of \(token.debugDescription) is not a non-negative integer")
        }
        idForToken[ExactString(token)] = id
        if id >= tokenForID.count { tokenForID += Array(repeating: nil, count: id + 1 - tokenForID.count) }
        tokenForID[id] = token
    }
    return (idForToken, tokenForID)
}

/// A tokenizer.json `model`: turns one pre-tokenized word into token ids, and owns the vocabulary.
protocol TokenizerModel: Sendable {
    /// Appends the ids of `word`'s tokens.
    func tokenize(_ word: String, into ids: inout [Int])
    func id(of token: String) -> Int?
    func token(of id: Int) -> String?
    /// The number of ids in the vocabulary.
    var vocabularySize: Int { get }
}

func makeModel(_ json: JSON) throws -> any TokenizerModel {
    switch json.typeName {
    case "BPE": return try BPEModel(json)
    case "WordPiece": return try WordPieceModel(json)
    case "Unigram": return try UnigramModel(json)
    default: throw TokenizerError.unsupported("model", json.typeName)
    }
}

import Foundation
@testable import Tokenizer
import XCTest

/// The pipeline stages of encoder-model tokenizers (WordPiece, Unigram, Precompiled, BERT's
/// normalizer and decoder) one at a time. Expected values are what tokenizers 0.23.3 gives.
final class EncoderTokenizerTests: XCTestCase {
    private func json(_ text: String) throws -> JSON { try JSON.parse(Array(text.utf8)) }

    private func unigram(_ pieces: [(String, Double)], unknownID: Int? = 0, byteFallback: Bool = false) throws -> UnigramModel {
        let vocab = pieces.map { "[\(String(reflecting: $0.0)), \($0.1)]" }.joined(separator: ", ")
        let unknown = unknownID.map(String.init) ?? "null"
        return try UnigramModel(try json(#"{"type": "Unigram", "unk_id": \#(unknown), "vocab": [\#(vocab)], "byte_fallback": \#(byteFallback)}"#))
    }

    private func ids(_ model: any TokenizerModel, _ word: String) -> [Int] {
        var ids: [Int] = []
        model.tokenize(word, into: &ids)
        return ids
    }

    // MARK: - Unigram

    func testUnigramViterbiPrefersTheEarlierPieceOnTies() throws {
        // "a" + "b" and "ab" both score -2: the path found first ("ab", from position 0) stays.
        let model = try unigram([("<unk>", 0), ("a", -1), ("b", -1), ("ab", -2), ("c", -3), ("abc", -7)])
        XCTAssertEqual(ids(model, "ab"), [3])
        XCTAssertEqual(ids(model, "abc"), [3, 4])  // ab + c = -5 beats abc = -7
        XCTAssertEqual(ids(model, ""), [])
    }

    func testUnigramFusesAdjacentUnknownCharacters() throws {
        let model = try unigram([("<unk>", 0), ("a", -1), ("b", -1), ("ab", -2), ("x", -1.5), ("xz", -60)])
        XCTAssertEqual(ids(model, "qrab"), [0, 3])     // "qr" is one unknown token
        XCTAssertEqual(ids(model, "qaq"), [0, 1, 0])   // a known piece separates them
        XCTAssertEqual(ids(model, "éa"), [0, 1])       // unknown characters are whole characters
        // "z" alone is no piece, so x + <unk> (-1.5 + min - 10 = -71.5) loses to the rare "xz" (-60).
        XCTAssertEqual(ids(model, "xz"), [5])
        XCTAssertEqual(ids(model, "zz"), [0])
        XCTAssertEqual(UnigramModel.unknownPenalty, 10)
    }

    func testUnigramByteFallbackSpellsUnknownRunsInBytes() throws {
        let bytes = (0..<256).map { (byteFallbackToken($0), -5.0) }
        let model = try unigram([("<unk>", 0), ("a", -1)] + bytes, byteFallback: true)
        XCTAssertEqual(ids(model, "aéa"), [1, 2 + 0xC3, 2 + 0xA9, 1])
        let withoutBytes = try unigram([("<unk>", 0), ("a", -1)])
        XCTAssertEqual(ids(withoutBytes, "aéa"), [1, 0, 1])
    }

    func testUnigramWithoutUnknownTokenDropsUnknownCharacters() throws {
        let model = try unigram([("a", -1), ("b", -1)], unknownID: nil)
        XCTAssertEqual(ids(model, "azzb"), [0, 1])
    }

    // MARK: - Precompiled

    private func t5Charsmap() throws -> PrecompiledNormalizer {
        let file = Fixtures.tokenizerRoot.appendingPathComponent("t5-unigram/tokenizer.json")
        let tokenizerJSON = try JSON.parse([UInt8](try Data(contentsOf: file)))
        return try PrecompiledNormalizer(try XCTUnwrap(tokenizerJSON["normalizer"]))
    }

    func testPrecompiledCharsmapLookups() throws {
        let normalizer = try t5Charsmap()
        let cases: [(String, String)] = [
            ("ﬁ", "fi"), ("①", "1"), ("ＡＢＣ", "ABC"), ("™", "TM"), ("\u{212B}", "\u{C5}"),
            ("ｶﾞ", "\u{30AB}\u{3099}"),                 // one 6-byte cluster: each half looked up alone
            ("e\u{301}", "\u{E9}"),                       // a cluster under 6 bytes is looked up whole
            ("ﬁ\u{301}", "fi"),                           // ... by its shortest matching prefix
            ("a\u{301}\u{302}\u{303}", "a\u{301}\u{302}\u{303}"),  // 7 bytes: character by character
            ("\r\n", " "), ("\t x\u{3000}y", "  x y"), ("\u{200B}", " "),
            ("a\u{0}b", "a\u{0}b"),                       // a NUL byte ends the trie key
            ("👨\u{200D}💻", "👨\u{200D}💻"), ("plain text", "plain text"), ("", ""),
        ]
        for (input, expected) in cases {
            XCTAssertSameText(normalizer.normalize(input), expected, input.debugDescription)
        }
        XCTAssertEqual(normalizer.transform(Array("①".utf8)[...]), "1")
        XCTAssertNil(normalizer.transform(Array("a".utf8)[...]))
    }

    func testMalformedPrecompiledCharsmapIsAnError() throws {
        for (charsmap, message) in [("", "too short"), ("not base64!", "not base64"), ("AQAAAA==", "invalid trie size")] {
            let stage = try json(#"{"type": "Precompiled", "precompiled_charsmap": "\#(charsmap)"}"#)
            XCTAssertThrowsError(try PrecompiledNormalizer(stage)) { error in
                XCTAssertTrue("\(error)".contains(message), "\(error)")
            }
        }
    }

    // MARK: - WordPiece

    private func wordPiece(maxChars: Int = 100) throws -> WordPieceModel {
        try WordPieceModel(try json(#"""
            {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "max_input_chars_per_word": \#(maxChars),
             "vocab": {"[UNK]": 0, "un": 1, "##aff": 2, "##able": 3, "una": 4, "b": 5, "##b": 6, "é": 7}}
            """#))
    }

    func testWordPieceTakesTheLongestPieceFromTheLeft() throws {
        let model = try wordPiece()
        XCTAssertEqual(ids(model, "unaable"), [4, 3])
        // Greedy: "una" is longest, and nothing covers "##ffable"; un + ##aff + ##able is never tried.
        XCTAssertEqual(ids(model, "unaffable"), [0])
        XCTAssertEqual(ids(model, "unx"), [0])  // one unmatched piece: the whole word is [UNK]
        XCTAssertEqual(ids(model, "é"), [7])
        XCTAssertEqual(ids(model, ""), [])
    }

    func testWordPieceLongWordIsUnknown() throws {
        let model = try wordPiece()
        XCTAssertEqual(ids(model, String(repeating: "b", count: 100)), [5] + Array(repeating: 6, count: 99))
        XCTAssertEqual(ids(model, String(repeating: "b", count: 101)), [0])
        // The limit counts characters, not bytes.
        XCTAssertEqual(ids(try wordPiece(maxChars: 2), "éé"), [0])
        XCTAssertEqual(ids(try wordPiece(maxChars: 2), "bb"), [5, 6])
        XCTAssertEqual(ids(try wordPiece(maxChars: 2), "bbb"), [0])
    }

    func testWordPieceUnknownTokenMustBeInVocabulary() throws {
        let stage = try json(#"{"type": "WordPiece", "unk_token": "[UNK]", "vocab": {"a": 0}}"#)
        XCTAssertThrowsError(try WordPieceModel(stage)) { error in
            XCTAssertTrue("\(error)".contains("unk_token"), "\(error)")
        }
        let unigram = try json(#"{"type": "Unigram", "unk_id": 5, "vocab": [["a", -1.0]]}"#)
        XCTAssertThrowsError(try UnigramModel(unigram)) { error in
            XCTAssertTrue("\(error)".contains("unk_id 5"), "\(error)")
        }
    }

    // MARK: - BERT normalizer, pre-tokenizer and decoder

    func testBertNormalizer() throws {
        let normalizer = BertNormalizer(try json(#"{"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true, "strip_accents": null, "lowercase": true}"#))
        XCTAssertSameText(normalizer.normalize("Héllo\tWÖRLD\u{0}中文!"), "hello world 中  文 !")
        XCTAssertSameText(normalizer.normalize("x\u{AD}y\u{200B}z\u{FFFD}"), "xyz")  // Cf and U+FFFD deleted
        XCTAssertSameText(normalizer.normalize("\u{930}\u{93F}\u{301}"), "\u{930}\u{93F}")  // Mc kept, Mn dropped
        XCTAssertSameText(normalizer.normalize("ǅİ"), "ǆi")
        let keepsCase = BertNormalizer(try json(#"{"type": "BertNormalizer", "lowercase": false}"#))
        XCTAssertSameText(keepsCase.normalize("Héllo"), "Héllo")  // strip_accents follows lowercase
    }

    func testBertPreTokenizerIsolatesEveryPunctuationCharacter() throws {
        let preTokenizer = try makePreTokenizer(try json(#"{"type": "BertPreTokenizer"}"#))
        let words = preTokenizer.split(TextPiece(text: "Hi,there!! ¿qué? a$b\u{3000}c\u{2E52}", isFirst: true)).map(\.text)
        // U+2E52 is punctuation since Unicode 14, but not in the tables tokenizers uses.
        XCTAssertEqual(words, ["Hi", ",", "there", "!", "!", "¿", "qué", "?", "a", "$", "b", "c\u{2E52}"])
    }

    func testWordPieceDecoder() throws {
        let decoder = try makeDecoder(try json(###"{"type": "WordPiece", "prefix": "##", "cleanup": true}"###))
        let tokens = ["##un", "hello", "##s", ",", "do", "n't", "'", "s", ".", "it", "'", "s"]
        XCTAssertSameText(decoder.decode(tokens).joined(), "##un hellos, don't ' s. it ' s")
        let plain = try makeDecoder(try json(#"{"type": "WordPiece", "prefix": "", "cleanup": false}"#))
        XCTAssertSameText(plain.decode(["a", "b", " ."]).joined(), "ab .")
    }
}

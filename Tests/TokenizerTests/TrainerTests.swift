import Foundation
@testable import Tokenizer
import XCTest

/// The byte-level BPE trainer on small in-memory corpora. Parity with the tokenizers library's BpeTrainer (merges
/// and tokenizer.json identical on a 5 MB corpus) and loading in transformers are checked by
/// scripts/fixtures/check_trained_tokenizer.py.
final class TrainerTests: XCTestCase {
    /// A few hundred varied lines: prose, accents, numbers and indented code.
    private static let corpus: [String] = (0..<120).map { index in
        """
        The tokenizer reads line \(index) of the training text, and the training text reads well.
        Le café est très bon ; l'élève a déjà mangé \(index * 7) crêpes.
        def handler_\(index % 9)(request):
            return {"status": \(200 + index % 3), "items": [item for item in request.items]}

        """
    }

    private static let probes = [
        "plain": "The quick brown fox jumps over the lazy dog.",
        "accents": "Über die Straße, señor; ça va, Noël ?",
        "decomposed accent": "cafe\u{301}",
        "CJK": "日本語のテキストと中文文本",
        "emoji": "👋 👨\u{200D}👩\u{200D}👧 🇫🇷 👍🏽",
        "whitespace runs": "  two   three    four\t\ttabs\n\n\nnewlines\r\n  trailing  ",
        "code": "def f(x):\n    return {'a': [x ** 2 for x in range(10)]}  # done\n",
        "special tokens": "<|im_start|>user\nhi<|im_end|>\n<|endoftext|>",
    ]

    private func train(_ trainer: BPETrainer, texts: [String] = corpus) throws -> (TrainedTokenizer, Tokenizer) {
        let trained = try trainer.train(texts: texts)
        return (trained, try trained.save(to: try Fixtures.temporaryDirectory(for: self)))
    }

    func testSameInputGivesIdenticalFiles() throws {
        let trainer = BPETrainer(vocabularySize: 420)
        let first = try trainer.train(texts: Self.corpus)
        let second = try trainer.train(texts: Self.corpus)
        XCTAssertEqual(first.tokenizerJSON, second.tokenizerJSON)
        XCTAssertEqual(first.tokenizerConfigJSON, second.tokenizerConfigJSON)
    }

    func testVocabularyHasTheRequestedSize() throws {
        let (trained, tokenizer) = try train(BPETrainer(vocabularySize: 420))
        XCTAssertEqual(trained.vocabularySize, 420)
        XCTAssertEqual(trained.mergeCount, 420 - 3 - 256)
        XCTAssertEqual(tokenizer.vocabularySize, 420)
    }

    func testTrainingStopsWhenNoPairIsFrequentEnough() throws {
        let (trained, tokenizer) = try train(BPETrainer(vocabularySize: 1000, minFrequency: 3), texts: ["abab abab cd"])
        // "ab" occurs 4 times, then "abab" twice (under 3): one merge.
        XCTAssertEqual(trained.mergeCount, 1)
        XCTAssertEqual(trained.vocabularySize, 3 + 256 + 1)
        XCTAssertNotNil(tokenizer.id(of: "ab"))
    }

    func testSpecialTokensHaveTheDocumentedIDsAndRoles() throws {
        let (_, tokenizer) = try train(BPETrainer(vocabularySize: 300))
        XCTAssertEqual(["<|endoftext|>", "<|im_start|>", "<|im_end|>"].map(tokenizer.id(of:)), [0, 1, 2])
        XCTAssertEqual(tokenizer.bosTokenID, 0)
        XCTAssertEqual(tokenizer.padTokenID, 0)
        XCTAssertEqual(tokenizer.eosTokenID, 2)
        XCTAssertNil(tokenizer.unknownTokenID)
        XCTAssertTrue((0...2).allSatisfy(tokenizer.isSpecial))
        XCTAssertEqual(tokenizer.encode("<|im_start|>user").first, 1)
        XCTAssertEqual(tokenizer.encode("hi"), tokenizer.encode("hi", addSpecialTokens: false), "no BOS is added")
        let rendered = try tokenizer.applyChatTemplate([ChatMessage(role: "user", content: "Hi")], addGenerationPrompt: true)
        XCTAssertEqual(rendered, "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
    }

    func testDecodingReturnsTheTextExactly() throws {
        let (_, tokenizer) = try train(BPETrainer(vocabularySize: 500))
        for (name, text) in Self.probes {
            XCTAssertSameText(tokenizer.decode(tokenizer.encode(text)), text, name)
        }
    }

    func testFrequentWordsBecomeSingleTokens() throws {
        let (_, tokenizer) = try train(BPETrainer(vocabularySize: 500))
        for word in [" training", " text", " return", "The", " café"] {
            XCTAssertEqual(tokenizer.encode(word).count, 1, word)
        }
        XCTAssertGreaterThan(tokenizer.encode(" zyzzyva").count, 1)
    }

    func testSpecialTokensInTheTextAreNotLearned() throws {
        let texts = Array(repeating: "one document<|endoftext|>another document<|endoftext|>", count: 50)
        let (_, tokenizer) = try train(BPETrainer(vocabularySize: 300), texts: texts)
        XCTAssertNotNil(tokenizer.id(of: "Ġdocument"))
        XCTAssertNil(tokenizer.id(of: "endoftext"))
        XCTAssertNil(tokenizer.id(of: "<|"))
    }

    func testProgressCountsEveryMerge() throws {
        var reports: [(done: Int, total: Int)] = []
        let trained = try BPETrainer(vocabularySize: 320).train(texts: Self.corpus) { reports.append(($0, $1)) }
        XCTAssertEqual(reports.map(\.done), Array(0...trained.mergeCount))
        XCTAssertTrue(reports.allSatisfy { $0.total == 320 - 259 })
    }

    func testTooSmallVocabularyIsAnError() {
        XCTAssertThrowsError(try BPETrainer(vocabularySize: 258).train(texts: Self.corpus)) { error in
            XCTAssertEqual((error as? TokenizerError)?.message,
                           "vocabulary size 258 is smaller than the 256 byte tokens plus 3 special tokens (259)")
        }
    }

    func testUnreadableFileIsNamed() {
        let missing = URL(fileURLWithPath: "/nonexistent/corpus.txt")
        XCTAssertThrowsError(try BPETrainer(vocabularySize: 300).train(files: [missing])) { error in
            XCTAssertEqual((error as? TokenizerError)?.description, "/nonexistent/corpus.txt: cannot read the file")
        }
    }

    /// Long texts are pre-tokenized in chunks on all cores; the words must be those of the whole text, including
    /// whitespace runs, whose last space depends on what follows.
    func testChunkedWordCountsEqualWholeText() throws {
        let text = String(repeating: "x = 1  \n\n  y\n  \nend.\n\t\nword \n", count: 5_000)
        let preTokenizer = try makePreTokenizer(BPETrainer.Style.gpt2.preTokenizer)
        var expected: [String: Int] = [:]
        for word in preTokenizer.split(TextPiece(text: text, isFirst: true)) { expected[word.text, default: 0] += 1 }
        let counted = countWords(in: [text], preTokenizer: preTokenizer, specialTokens: [])
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: counted.map { ($0.word, $0.count) }), expected)
    }
}

import Foundation
import Tokenizer
import XCTest

/// A byte-level BPE saved as vocab.json and merges.txt (no tokenizer.json), as older GPT-2 and RoBERTa checkpoints
/// are: the same ids, tokens and text as the tokenizer.json transformers converts those files into.
final class VocabMergesTests: XCTestCase {
    /// `source`'s tokenizer.json model written the slow tokenizers' way, beside its tokenizer_config.json.
    private func vocabAndMerges(of source: URL) throws -> URL {
        let directory = try Fixtures.temporaryDirectory(for: self)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: source.appendingPathComponent("tokenizer.json"))) as? [String: Any])
        let model = try XCTUnwrap(json["model"] as? [String: Any])
        let vocab = try XCTUnwrap(model["vocab"] as? [String: Int])
        try JSONSerialization.data(withJSONObject: vocab).write(to: directory.appendingPathComponent("vocab.json"))
        // Added tokens outside the vocabulary (GPT-2 fixture's <|endoftext|>) go to added_tokens.json, as slow tokenizers save them.
        let added = try XCTUnwrap(json["added_tokens"] as? [[String: Any]]).compactMap { token -> (String, Int)? in
            guard let content = token["content"] as? String, let id = token["id"] as? Int, vocab[content] == nil else { return nil }
            return (content, id)
        }
        if !added.isEmpty {
            try JSONSerialization.data(withJSONObject: Dictionary(uniqueKeysWithValues: added)).write(to: directory.appendingPathComponent("added_tokens.json"))
        }
        let merges = try XCTUnwrap(model["merges"] as? [[String]]).map { $0.joined(separator: " ") }
        try Data((["#version: 0.2"] + merges).joined(separator: "\n").appending("\n").utf8).write(to: directory.appendingPathComponent("merges.txt"))
        try FileManager.default.copyItem(at: source.appendingPathComponent("tokenizer_config.json"),
                                         to: directory.appendingPathComponent("tokenizer_config.json"))
        return directory
    }

    func testRobertaAndGPT2VocabAndMergesMatchTheirTokenizerJSON() throws {
        for name in ["roberta-bpe", "gpt2-bytelevel"] {
            let source = Fixtures.tokenizerRoot.appendingPathComponent(name)
            let converted = try Tokenizer(directory: try vocabAndMerges(of: source))
            for probe in try Fixtures.expectations(source).probes {
                let context = "\(name) \(probe.name)"
                XCTAssertEqual(converted.encode(probe.text), probe.ids, context)
                XCTAssertEqual(converted.encode(probe.text, addSpecialTokens: false), probe.idsNoSpecial, context)
                XCTAssertSameText(converted.decode(probe.ids, skipSpecialTokens: true), probe.decodedSkipSpecial, context)
            }
            let original = try Tokenizer(directory: source)
            XCTAssertEqual(converted.vocabularySize, original.vocabularySize, name)
            XCTAssertEqual(converted.eosTokenID, original.eosTokenID, name)
            // RoBERTa's <mask> takes the space before it with it.
            XCTAssertEqual(converted.encode("a <mask> b"), original.encode("a <mask> b"), name)
        }
    }

    func testAMissingTokenizerNamesWhatIsLookedFor() throws {
        let directory = try Fixtures.temporaryDirectory(for: self)
        XCTAssertThrowsError(try Tokenizer(directory: directory)) { error in
            XCTAssertTrue("\(error)".contains("no tokenizer.json (nor a byte-level BPE's vocab.json and merges.txt)"), "\(error)")
        }
    }
}

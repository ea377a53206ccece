import Foundation
import Tokenizer
import XCTest

/// Loading: clear errors for what is not supported or not well-formed, and the tokenizer_config.json
/// and generation_config.json details that change encoding or generation.
final class LoadingTests: XCTestCase {
    /// A copy of a fixture tokenizer in a temporary directory, with `edit` applied to its parsed
    /// tokenizer.json and tokenizer_config.json.
    private func fixtureCopy(_ name: String, editTokenizer: (inout [String: Any]) -> Void = { _ in },
                             editConfig: (inout [String: Any]) -> Void = { _ in }) throws -> URL {
        let directory = try Fixtures.temporaryDirectory(for: self)
        func copy(_ file: String, _ edit: (inout [String: Any]) -> Void) throws {
            let data = try Data(contentsOf: Fixtures.tokenizerRoot.appendingPathComponent("\(name)/\(file)"))
            var object = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            edit(&object)
            try JSONSerialization.data(withJSONObject: object).write(to: directory.appendingPathComponent(file))
        }
        try copy("tokenizer.json", editTokenizer)
        try copy("tokenizer_config.json", editConfig)
        return directory
    }

    private func loadingError(_ directory: URL, file: StaticString = #filePath, line: UInt = #line) -> TokenizerError? {
        do {
            _ = try Tokenizer(directory: directory)
            XCTFail("loading should fail", file: file, line: line)
            return nil
        } catch {
            return error as? TokenizerError
        }
    }

    func testUnknownStageTypesAreNamed() throws {
        let cases: [(key: String, value: [String: Any], message: String)] = [
            ("pre_tokenizer", ["type": "CharDelimiterSplit", "delimiter": "x"], #"unsupported pre_tokenizer type "CharDelimiterSplit""#),
            ("normalizer", ["type": "Nmt"], #"unsupported normalizer type "Nmt""#),
            ("decoder", ["type": "CTC"], #"unsupported decoder type "CTC""#),
            ("post_processor", ["type": "Unheard"], #"unsupported post_processor type "Unheard""#),
            ("model", ["type": "WordLevel", "vocab": [:], "unk_token": "x"], #"unsupported model type "WordLevel""#),
        ]
        for testCase in cases {
            let directory = try fixtureCopy("gpt2-bytelevel", editTokenizer: { $0[testCase.key] = testCase.value })
            let error = try XCTUnwrap(loadingError(directory))
            XCTAssertTrue(error.description.contains(testCase.message), error.description)
            XCTAssertTrue(error.description.hasPrefix(directory.appendingPathComponent("tokenizer.json").path), error.description)
        }
    }

    func testNestedUnknownTypeIsFound() throws {
        let directory = try fixtureCopy("qwen2-bytelevel", editTokenizer: {
            $0["pre_tokenizer"] = ["type": "Sequence", "pretokenizers": [["type": "Digits"], ["type": "UnicodeScripts"]]]
        })
        XCTAssertTrue(try XCTUnwrap(loadingError(directory)).message.contains(#"unsupported pre_tokenizer type "UnicodeScripts""#))
    }

    func testMalformedJSONNamesFileAndPosition() throws {
        let directory = try Fixtures.temporaryDirectory(for: self)
        let file = directory.appendingPathComponent("tokenizer.json")
        try Data("{\n  \"model\": {\"type\": \"BPE\",,}\n}".utf8).write(to: file)
        let error = try XCTUnwrap(loadingError(directory))
        XCTAssertEqual(error.file, file.path)
        XCTAssertTrue(error.description.contains("line 2, column 27"), error.description)
    }

    func testMalformedConfigNamesItsFile() throws {
        let directory = try fixtureCopy("gpt2-bytelevel")
        let config = directory.appendingPathComponent("tokenizer_config.json")
        try Data("{\"bos_token\": ".utf8).write(to: config)
        XCTAssertEqual(try XCTUnwrap(loadingError(directory)).file, config.path)
    }

    func testMissingTokenizerFile() throws {
        let directory = try Fixtures.temporaryDirectory(for: self)
        XCTAssertTrue(try XCTUnwrap(loadingError(directory)).description.contains("no tokenizer.json"))
    }

    func testMergeOutsideVocabularyIsAnError() throws {
        let directory = try fixtureCopy("gpt2-bytelevel", editTokenizer: { json in
            var model = json["model"] as! [String: Any]
            model["merges"] = [["no-such-token", "t"]]
            json["model"] = model
        })
        XCTAssertTrue(try XCTUnwrap(loadingError(directory)).message.contains("no-such-token"))
    }

    /// transformers registers the special tokens tokenizer_config.json names as added tokens, even
    /// when tokenizer.json has them only in the model's vocabulary.
    func testConfigSpecialTokensAreMatchedInText() throws {
        let directory = try fixtureCopy("gpt2-bytelevel", editConfig: { $0["eos_token"] = "in" })
        let tokenizer = try Tokenizer(directory: directory)
        let text = "singing things"
        let ids = tokenizer.encode(text)
        XCTAssertEqual(tokenizer.tokens(for: ids).filter { $0 == "in" }.count, 3)
        XCTAssertEqual(tokenizer.eosTokenID, tokenizer.id(of: "in"))
        XCTAssertTrue(tokenizer.isSpecial(try XCTUnwrap(tokenizer.eosTokenID)))
        XCTAssertEqual(tokenizer.decode(ids), text)
        XCTAssertEqual(tokenizer.decode(ids, skipSpecialTokens: true), "sgg thgs")
    }

    func testEOSIdsCombineConfigFiles() throws {
        let directory = try fixtureCopy("qwen2-bytelevel")
        try Data(#"{"eos_token_id": [797, 5]}"#.utf8).write(to: directory.appendingPathComponent("generation_config.json"))
        try Data(#"{"eos_token_id": 6}"#.utf8).write(to: directory.appendingPathComponent("config.json"))
        let tokenizer = try Tokenizer(directory: directory)
        XCTAssertEqual(tokenizer.eosTokenIDs, [try XCTUnwrap(tokenizer.id(of: "<|im_end|>")), 797, 5, 6])
        XCTAssertEqual(tokenizer.modelMaxLength, 2048)
    }

    func testVocabularyLookups() throws {
        let tokenizer = try Tokenizer(directory: Fixtures.tokenizerRoot.appendingPathComponent("llama2-sentencepiece"))
        XCTAssertEqual(tokenizer.id(of: "<0x0A>").flatMap(tokenizer.token(for:)), "<0x0A>")
        XCTAssertNil(tokenizer.id(of: "no such token"))
        XCTAssertNil(tokenizer.token(for: tokenizer.vocabularySize + 10))
        XCTAssertEqual(tokenizer.decode([tokenizer.vocabularySize + 10]), "")
        XCTAssertFalse(tokenizer.isSpecial(try XCTUnwrap(tokenizer.id(of: "<0x0A>"))))
    }
}

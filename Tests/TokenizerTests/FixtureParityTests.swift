import Foundation
import Synchronization
import Tokenizer
import XCTest

/// Every fixture tokenizer must give what the `tokenizers` library gave, probe by probe.
final class FixtureParityTests: XCTestCase {
    func testFixturesArePresent() {
        XCTAssertEqual(Fixtures.familyDirectories.map(\.lastPathComponent),
                       ["bert-wordpiece", "deberta-v2-unigram", "gpt2-bytelevel", "llama2-sentencepiece", "llama3-bytelevel",
                        "mistral-metaspace", "qwen2-bytelevel", "roberta-bpe", "t5-unigram", "xlmr-unigram"])
        XCTAssertEqual(Fixtures.componentDirectories.map(\.lastPathComponent),
                       ["bytelevel-prefix", "legacy-metaspace", "split-behaviors", "subword-affixes"])
    }

    func testEncodeMatchesLibrary() throws {
        try forEachProbe { tokenizer, probe, context in
            XCTAssertEqual(tokenizer.encode(probe.text), probe.ids, context)
            XCTAssertEqual(tokenizer.encode(probe.text, addSpecialTokens: false), probe.idsNoSpecial, context)
        }
    }

    func testTokensMatchLibrary() throws {
        try forEachProbe { tokenizer, probe, context in
            let tokens = tokenizer.tokens(for: probe.ids)
            XCTAssertEqual(tokens.count, probe.tokens.count, context)
            for (actual, expected) in zip(tokens, probe.tokens) { XCTAssertSameText(actual, expected, context) }
            for (token, id) in zip(probe.tokens, probe.ids) { XCTAssertEqual(tokenizer.id(of: token), id, context) }
        }
    }

    func testDecodeMatchesLibrary() throws {
        try forEachProbe { tokenizer, probe, context in
            XCTAssertSameText(tokenizer.decode(probe.ids), probe.decoded, context)
            XCTAssertSameText(tokenizer.decode(probe.ids, skipSpecialTokens: true), probe.decodedSkipSpecial, context)
            XCTAssertSameText(tokenizer.decode(probe.idsNoSpecial), probe.decodedNoSpecial, context)
        }
    }

    /// Streamed text, id by id, adds up to the full decode, and no piece ends inside a character.
    func testStreamingDecoderAddsUpToDecode() throws {
        try forEachProbe { tokenizer, probe, context in
            for skipSpecialTokens in [false, true] {
                var stream = StreamingDecoder(tokenizer: tokenizer, skipSpecialTokens: skipSpecialTokens)
                var streamed = ""
                for id in probe.ids {
                    let piece = stream.append(id)
                    XCTAssertNotEqual(piece.unicodeScalars.last, "\u{FFFD}", context)
                    streamed += piece
                }
                streamed += stream.flush()
                XCTAssertSameText(streamed, tokenizer.decode(probe.ids, skipSpecialTokens: skipSpecialTokens), context)
            }
        }
    }

    func testSpecialTokensAndVocabularySize() throws {
        for directory in Fixtures.familyDirectories + Fixtures.componentDirectories {
            let name = directory.lastPathComponent
            let tokenizer = try Tokenizer(directory: directory)
            let expected = try Fixtures.expectations(directory)
            XCTAssertEqual(tokenizer.vocabularySize, expected.vocabSize, name)
            guard Fixtures.familyDirectories.contains(directory) else { continue }
            XCTAssertEqual(tokenizer.bosToken, expected.specialTokens["bos_token"]?.token, name)
            XCTAssertEqual(tokenizer.bosTokenID, expected.specialTokens["bos_token"]?.id, name)
            XCTAssertEqual(tokenizer.eosToken, expected.specialTokens["eos_token"]?.token, name)
            XCTAssertEqual(tokenizer.eosTokenID, expected.specialTokens["eos_token"]?.id, name)
            XCTAssertEqual(tokenizer.padTokenID, expected.specialTokens["pad_token"]?.id, name)
            XCTAssertEqual(tokenizer.unknownTokenID, expected.specialTokens["unk_token"]?.id, name)
            if let eos = tokenizer.eosTokenID {
                XCTAssertTrue(tokenizer.eosTokenIDs.contains(eos), name)
                XCTAssertTrue(tokenizer.isSpecial(eos), name)
            }
        }
    }

    private func forEachProbe(_ body: (Tokenizer, TokenizerExpectations.Probe, String) throws -> Void) throws {
        var probes = 0
        for directory in Fixtures.familyDirectories + Fixtures.componentDirectories {
            let tokenizer = try Tokenizer(directory: directory)
            for probe in try Fixtures.expectations(directory).probes {
                try body(tokenizer, probe, "\(directory.lastPathComponent)/\(probe.name)")
                probes += 1
            }
        }
        XCTAssertGreaterThan(probes, 100)
    }
}

extension FixtureParityTests {
    /// One tokenizer shared by many threads (its word cache is behind a lock) gives the same ids.
    func testConcurrentEncodingMatchesSerial() throws {
        let directory = Fixtures.familyDirectories[0]
        let tokenizer = try Tokenizer(directory: directory)
        let texts = try Fixtures.expectations(directory).probes.map(\.text)
        let expected = texts.map { tokenizer.encode($0) }
        let mismatches = Mutex(0)
        DispatchQueue.concurrentPerform(iterations: 64) { iteration in
            let index = iteration % texts.count
            if tokenizer.encode(texts[index]) != expected[index] { mismatches.withLock { $0 += 1 } }
        }
        XCTAssertEqual(mismatches.withLock { $0 }, 0)
    }
}

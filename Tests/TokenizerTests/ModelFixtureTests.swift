import Foundation
import Tokenizer
import XCTest

/// The model fixtures' reference.json (Tests/ModelsTests/Fixtures/*/) records the ids transformers
/// fed the models; the tokenizer saved beside each model must reproduce them.
enum ModelFixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("ModelsTests/Fixtures")

    static var directories: [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        return names.sorted().map { root.appendingPathComponent($0) }.filter {
            FileManager.default.fileExists(atPath: $0.appendingPathComponent("reference.json").path)
                && FileManager.default.fileExists(atPath: $0.appendingPathComponent("tokenizer.json").path)
        }
    }

    struct Reference: Decodable {
        struct Text: Decodable {
            let text: String
            let inputIds: [Int]
        }

        /// A generation run: `prompt`, `prompt_ids`, `output_ids` for causal models, `input`,
        /// `input_ids`, `generated_ids` for encoder-decoder models.
        struct Greedy: Decodable {
            let prompt: String
            let promptIds: [Int]
            let outputIds: [Int]

            private enum CodingKeys: String, CodingKey {
                case prompt, promptIds, outputIds, input, inputIds, generatedIds
            }

            init(from decoder: any Swift.Decoder) throws {
                let container = try decoder.container(keyedBy: CodingKeys.self)
                prompt = try container.decodeIfPresent(String.self, forKey: .prompt)
                    ?? container.decode(String.self, forKey: .input)
                promptIds = try container.decodeIfPresent([Int].self, forKey: .promptIds)
                    ?? container.decode([Int].self, forKey: .inputIds)
                outputIds = try container.decodeIfPresent([Int].self, forKey: .outputIds)
                    ?? container.decode([Int].self, forKey: .generatedIds)
            }
        }

        /// An encoder-decoder training pair; `input_ids` are the encoded input.
        struct Pair: Decodable {
            let input: String
            let inputIds: [Int]
        }

        let tokenizer: String
        /// Absent for encoder-decoder models, which record `pairs` instead.
        let texts: [Text]?
        /// Absent for classifiers.
        let greedy: [Greedy]?
        let pairs: [Pair]?
    }

    static func reference(_ directory: URL) throws -> Reference {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(Reference.self, from: Data(contentsOf: directory.appendingPathComponent("reference.json")))
    }

    static func tokenizerName(_ directory: URL) throws -> String { try reference(directory).tokenizer }
}

final class ModelFixtureTests: XCTestCase {
    func testModelTokenizersReproduceReferenceIds() throws {
        let directories = ModelFixtures.directories
        try XCTSkipIf(directories.isEmpty, "no model fixtures")
        for directory in directories {
            let name = directory.lastPathComponent
            let tokenizer = try Tokenizer(directory: directory)
            let reference = try ModelFixtures.reference(directory)
            for text in reference.texts ?? [] {
                XCTAssertEqual(tokenizer.encode(text.text), text.inputIds, "\(name): \(text.text.debugDescription)")
            }
            for pair in reference.pairs ?? [] {
                XCTAssertEqual(tokenizer.encode(pair.input), pair.inputIds, "\(name): \(pair.input.debugDescription)")
            }
            for run in reference.greedy ?? [] {
                XCTAssertEqual(tokenizer.encode(run.prompt), run.promptIds, name)
                // Generated ids are arbitrary, so their text need not re-encode to them; streaming must still add up.
                var stream = StreamingDecoder(tokenizer: tokenizer)
                let streamed = run.outputIds.map { stream.append($0) }.joined() + stream.flush()
                XCTAssertSameText(streamed, tokenizer.decode(run.outputIds), name)
            }
        }
    }
}

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

        struct Greedy: Decodable {
            let prompt: String
            let promptIds: [Int]
            let outputIds: [Int]
        }

        let tokenizer: String
        let texts: [Text]
        let greedy: [Greedy]
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
            for text in reference.texts {
                XCTAssertEqual(tokenizer.encode(text.text), text.inputIds, "\(name): \(text.text.debugDescription)")
            }
            for run in reference.greedy {
                XCTAssertEqual(tokenizer.encode(run.prompt), run.promptIds, name)
                // Generated ids are arbitrary, so their text need not re-encode to them; streaming must still add up.
                var stream = StreamingDecoder(tokenizer: tokenizer)
                let streamed = run.outputIds.map { stream.append($0) }.joined() + stream.flush()
                XCTAssertSameText(streamed, tokenizer.decode(run.outputIds), name)
            }
        }
    }
}

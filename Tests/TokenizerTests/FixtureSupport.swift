import Foundation
import XCTest

/// What `scripts/fixtures/make_tokenizer_fixtures.py` recorded from `transformers` for one tokenizer.
struct TokenizerExpectations: Decodable {
    struct Probe: Decodable {
        let name: String
        let text: String
        let ids: [Int]
        let idsNoSpecial: [Int]
        let tokens: [String]
        let decoded: String
        let decodedSkipSpecial: String
        let decodedNoSpecial: String
    }

    struct Message: Decodable {
        let role: String
        let content: String
    }

    struct Chat: Decodable {
        let messages: [Message]
        let addGenerationPrompt: Bool
        let rendered: String
        let ids: [Int]
    }

    struct SpecialToken: Decodable {
        let token: String?
        let id: Int?
    }

    let vocabSize: Int
    let specialTokens: [String: SpecialToken]
    let probes: [Probe]
    let chat: [Chat]?
}

enum Fixtures {
    static let tokenizerRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    /// The model-family tokenizers (Fixtures/<name>/), each with a tokenizer_config.json.
    static var familyDirectories: [URL] { tokenizerDirectories(in: tokenizerRoot) }

    /// The tokenizers that exercise the remaining pipeline stages (Fixtures/components/<name>/).
    static var componentDirectories: [URL] { tokenizerDirectories(in: tokenizerRoot.appendingPathComponent("components")) }

    private static func tokenizerDirectories(in root: URL) -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        return names.sorted().map { root.appendingPathComponent($0) }.filter {
            FileManager.default.fileExists(atPath: $0.appendingPathComponent("expected.json").path)
        }
    }

    static func expectations(_ directory: URL) throws -> TokenizerExpectations {
        let data = try Data(contentsOf: directory.appendingPathComponent("expected.json"))
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(TokenizerExpectations.self, from: data)
    }

    /// A fresh temporary directory, removed when the test ends.
    static func temporaryDirectory(for test: XCTestCase) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("TokenizerTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }
}

/// Compares UTF-8 bytes: `String ==` would call "é" and "e\u{301}" equal.
func XCTAssertSameText(_ actual: String, _ expected: String, _ message: @autoclosure () -> String = "",
                       file: StaticString = #filePath, line: UInt = #line) {
    if !actual.utf8.elementsEqual(expected.utf8) {
        XCTFail("\(actual.debugDescription) is not \(expected.debugDescription) \(message())", file: file, line: line)
    }
}

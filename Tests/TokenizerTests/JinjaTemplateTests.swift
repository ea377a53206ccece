import Foundation
@testable import Tokenizer
import XCTest

/// The interpreter itself (no family fallback) against Jinja as transformers configures it, on
/// published chat templates and a template that uses every supported construct.
final class JinjaTemplateTests: XCTestCase {
    func testTemplatesRenderAsJinjaDoes() throws {
        let url = Fixtures.tokenizerRoot.appendingPathComponent("chat-templates/cases.json")
        let fixture = try JSON.parse([UInt8](try Data(contentsOf: url)))
        let sources = try XCTUnwrap(fixture["templates"]?.object)
        let cases = try XCTUnwrap(fixture["cases"]?.array)
        XCTAssertGreaterThan(cases.count, 50)
        for testCase in cases {
            let name = try XCTUnwrap(testCase["template"]?.string)
            let context = "\(name)/\(testCase["context"]?.string ?? "")"
            let source = try XCTUnwrap(sources.first { $0.key == name }?.value.string)
            let nodes: [JinjaNode]
            do {
                nodes = try JinjaParser.parse(source)
            } catch {
                XCTFail("\(context): \(error)")
                continue
            }
            let variables = try XCTUnwrap(testCase["variables"]?.object)
            let result = Result { try JinjaRenderer.render(nodes, variables: Dictionary(uniqueKeysWithValues: variables.map { ($0.key, Self.value($0.value)) })) }
            if let expected = testCase["rendered"]?.string {
                switch result {
                case .success(let rendered): XCTAssertSameText(rendered, expected, context)
                case .failure(let error): XCTFail("\(context): \(error)")
                }
            } else if let message = testCase["raised"]?.string {
                XCTAssertEqual((result.failureValue as? JinjaRenderer.RaisedError)?.message, message, context)
            } else {
                XCTAssertNotNil(result.failureValue, "\(context) should fail like \(testCase["fails"]?.string ?? "")")
            }
        }
    }

    private static func value(_ json: JSON) -> JinjaValue {
        switch json {
        case .null: .none
        case .bool(let flag): .bool(flag)
        case .int(let number): .int(number)
        case .double(let number): .double(number)
        case .string(let text): .string(text)
        case .array(let items): .list(items.map(value))
        case .object(let pairs): .dictionary(JinjaDictionary(pairs: pairs.map { ($0.key, value($0.value)) }))
        }
    }
}

extension Result {
    var failureValue: Failure? { if case .failure(let error) = self { error } else { nil } }
}

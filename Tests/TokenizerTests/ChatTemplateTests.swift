import Foundation
import Tokenizer
import XCTest

final class ChatTemplateTests: XCTestCase {
    /// transformers' `apply_chat_template(tokenize=False)` renderings of the fixture tokenizers' templates.
    func testFixtureRenderingsMatchTransformers() throws {
        var checked = 0
        for directory in Fixtures.familyDirectories {
            let name = directory.lastPathComponent
            let tokenizer = try Tokenizer(directory: directory)
            let chats = try Fixtures.expectations(directory).chat ?? []
            XCTAssertEqual(tokenizer.hasChatTemplate, !chats.isEmpty, name)
            for chat in chats {
                let messages = chat.messages.map { ChatMessage(role: $0.role, content: $0.content) }
                let rendered = try tokenizer.applyChatTemplate(messages, addGenerationPrompt: chat.addGenerationPrompt)
                XCTAssertSameText(rendered, chat.rendered, name)
                XCTAssertEqual(tokenizer.encode(rendered, addSpecialTokens: false), chat.ids, name)
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 0)
    }
}

extension ChatTemplateTests {
    private func tokenizer(_ fixture: String, chatTemplate: String?) throws -> Tokenizer {
        let directory = try Fixtures.temporaryDirectory(for: self)
        let source = Fixtures.tokenizerRoot.appendingPathComponent(fixture)
        try FileManager.default.copyItem(at: source.appendingPathComponent("tokenizer.json"),
                                         to: directory.appendingPathComponent("tokenizer.json"))
        var config = try XCTUnwrap(try JSONSerialization.jsonObject(
            with: Data(contentsOf: source.appendingPathComponent("tokenizer_config.json"))) as? [String: Any])
        config["chat_template"] = chatTemplate
        try JSONSerialization.data(withJSONObject: config).write(to: directory.appendingPathComponent("tokenizer_config.json"))
        return try Tokenizer(directory: directory)
    }

    /// `encodePrompt(chat: true)` gives the ids of transformers' `apply_chat_template([{"role": "user", "content":
    /// "My house is too hot."}], add_generation_prompt=True, tokenize=True)` (transformers 5.23, recorded once);
    /// without `chat`, the plain encoding.
    func testEncodePromptMatchesTransformersChatTokenization() throws {
        let expected: [String: [Int]] = [
            "qwen2-bytelevel": [798, 82, 88, 311, 663, 198, 431, 440, 258, 657, 75, 79, 69, 417, 364, 82, 336, 429, 13, 799, 198, 798,
                                84, 572, 198, 44, 88, 394, 285, 272, 303, 295, 78, 394, 316, 13, 799, 198, 798, 526, 336, 429, 198],
            "llama3-bytelevel": [795, 797, 84, 572, 798, 291, 44, 88, 394, 285, 272, 303, 295, 78, 394, 316, 13, 799, 797, 526, 336,
                                 429, 798, 291],
            "llama2-sentencepiece": [1, 372, 317, 778, 309, 310, 319, 582, 346, 484, 400, 406, 415, 407, 336, 484, 432, 272, 372, 317,
                                     273, 778, 309, 310, 319],
        ]
        for (name, ids) in expected {
            let tokenizer = try Tokenizer(directory: Fixtures.tokenizerRoot.appendingPathComponent(name))
            XCTAssertEqual(try tokenizer.encodePrompt("My house is too hot.", chat: true), ids, name)
            XCTAssertEqual(try tokenizer.encodePrompt("My house is too hot.", chat: false), tokenizer.encode("My house is too hot."))
        }
    }

    func testPlainRenderingWithoutTemplate() throws {
        let tokenizer = try tokenizer("gpt2-bytelevel", chatTemplate: nil)
        XCTAssertFalse(tokenizer.hasChatTemplate)
        let messages = [ChatMessage(role: "system", content: "Be brief."), ChatMessage(role: "user", content: "Hi")]
        XCTAssertEqual(try tokenizer.applyChatTemplate(messages, addGenerationPrompt: true), "system: Be brief.\nuser: Hi\nassistant:")
        XCTAssertEqual(try tokenizer.applyChatTemplate(messages, addGenerationPrompt: false), "system: Be brief.\nuser: Hi\n")
    }

    /// A template using a statement the interpreter lacks still renders when its markers identify
    /// a known family: with that family's canonical template.
    func testUnsupportedTemplateOfKnownFamilyUsesCanonicalTemplate() throws {
        let template = "{% call render() %}{% endcall %}{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
        let tokenizer = try tokenizer("qwen2-bytelevel", chatTemplate: template)
        let rendered = try tokenizer.applyChatTemplate([ChatMessage(role: "user", content: "hi")], addGenerationPrompt: true)
        XCTAssertEqual(rendered, "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n")
    }

    func testUnsupportedUnknownTemplateFails() throws {
        let tokenizer = try tokenizer("qwen2-bytelevel", chatTemplate: "{{ messages | frobnicate }}")
        XCTAssertThrowsError(try tokenizer.applyChatTemplate([ChatMessage(role: "user", content: "hi")], addGenerationPrompt: true)) {
            let message = "\($0)"
            XCTAssertTrue(message.contains("unsupported filter 'frobnicate'") && message.contains("not recognised"), message)
        }
    }

    func testTemplateExceptionsReachTheCaller() throws {
        let tokenizer = try Tokenizer(directory: Fixtures.tokenizerRoot.appendingPathComponent("llama2-sentencepiece"))
        let messages = [ChatMessage(role: "user", content: "a"), ChatMessage(role: "user", content: "b")]
        XCTAssertThrowsError(try tokenizer.applyChatTemplate(messages, addGenerationPrompt: true)) {
            XCTAssertTrue("\($0)".contains("Conversation roles must alternate"), "\($0)")
        }
    }

    /// transformers 5 saves the template as chat_template.jinja next to the model; it is read from there.
    func testTemplateFromJinjaFileOfModelDirectories() throws {
        var checked = 0
        for model in ModelFixtures.directories {
            guard FileManager.default.fileExists(atPath: model.appendingPathComponent("chat_template.jinja").path) else { continue }
            let tokenizer = try Tokenizer(directory: model)
            let fixture = Fixtures.tokenizerRoot.appendingPathComponent(try ModelFixtures.tokenizerName(model))
            for chat in try Fixtures.expectations(fixture).chat ?? [] {
                let messages = chat.messages.map { ChatMessage(role: $0.role, content: $0.content) }
                XCTAssertSameText(try tokenizer.applyChatTemplate(messages, addGenerationPrompt: chat.addGenerationPrompt),
                                  chat.rendered, model.lastPathComponent)
                checked += 1
            }
        }
        if !ModelFixtures.directories.isEmpty { XCTAssertGreaterThan(checked, 0) }
    }
}

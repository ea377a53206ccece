/// One turn of a conversation.
public struct ChatMessage: Sendable, Equatable {
    public var role: String
    public var content: String

    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }
}

/// A tokenizer's chat template, rendered by a Jinja interpreter as `transformers` renders it.
///
/// A template the interpreter cannot handle (an unsupported statement, filter or method) is
/// recognised by its markers as one of the common families and rendered with that family's
/// canonical template instead; an unrecognised one fails with the interpreter's error.
struct ChatTemplate: Sendable {
    /// The common template families, each with its canonical template as published with the models.
    enum Family: Sendable {
        case chatML, llama3, llama2, mistral, zephyr, plain

        /// Markers in order of precedence: Llama 2 templates also contain "[INST]".
        static func recognise(_ source: String) -> Family? {
            let markers: [(String, Family)] = [("<|im_start|>", .chatML), ("<|start_header_id|>", .llama3),
                                               ("<<SYS>>", .llama2), ("[INST]", .mistral), ("<|user|>", .zephyr)]
            return markers.first { source.contains($0.0) }?.1
        }

        var source: String {
            switch self {
            case .chatML:
                "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
                    + "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
            case .llama3:
                "{% for message in messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'"
                    + " + message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}"
                    + "{% endif %}{{ content }}{% endfor %}"
                    + "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}"
            case .llama2:
                "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}"
                    + "{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}"
                    + "{% set system_message = false %}{% endif %}{% for message in loop_messages %}"
                    + "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
                    + "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
                    + "{% if loop.index0 == 0 and system_message != false %}"
                    + "{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}"
                    + "{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}"
                    + "{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}"
                    + "{{ ' ' + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}"
            case .mistral:
                "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
                    + "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
                    + "{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}"
                    + "{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token }}"
                    + "{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}"
            case .zephyr:
                """
                {% for message in messages %}
                {% if message['role'] == 'user' %}
                {{ '<|user|>\n' + message['content'] + eos_token }}
                {% elif message['role'] == 'system' %}
                {{ '<|system|>\n' + message['content'] + eos_token }}
                {% elif message['role'] == 'assistant' %}
                {{ '<|assistant|>\n'  + message['content'] + eos_token }}
                {% endif %}
                {% if loop.last and add_generation_prompt %}
                {{ '<|assistant|>' }}
                {% endif %}
                {% endfor %}
                """
            case .plain:
                "{% for message in messages %}{{ message['role'] + ': ' + message['content'] + '\\n' }}{% endfor %}"
                    + "{% if add_generation_prompt %}{{ 'assistant:' }}{% endif %}"
            }
        }
    }

    private enum Program: Sendable {
        case parsed([JinjaNode])
        case unparsable(JinjaSyntaxError)
    }

    private let program: Program
    /// The family to render with when the interpreter cannot render `program`.
    private let fallback: Family?

    init(_ source: String) {
        do {
            program = .parsed(try JinjaParser.parse(source))
        } catch let error as JinjaSyntaxError {
            program = .unparsable(error)
        } catch {
            program = .unparsable(JinjaSyntaxError(line: 0, message: "\(error)"))
        }
        fallback = Family.recognise(source)
    }

    init(family: Family) {
        // The canonical sources are part of this file and known to parse.
        program = .parsed(try! JinjaParser.parse(family.source))
        fallback = nil
    }

    func render(_ messages: [ChatMessage], addGenerationPrompt: Bool, specialTokens: [String: String]) throws -> String {
        var variables: [String: JinjaValue] = [
            "messages": .list(messages.map {
                .dictionary(JinjaDictionary(pairs: [("role", .string($0.role)), ("content", .string($0.content))]))
            }),
            "add_generation_prompt": .bool(addGenerationPrompt),
            "tools": .none,
            "documents": .none,
        ]
        for (name, token) in specialTokens { variables[name] = .string(token) }
        let failure: String
        switch program {
        case .parsed(let nodes):
            do {
                return try JinjaRenderer.render(nodes, variables: variables)
            } catch let error as JinjaRenderer.RaisedError {
                throw TokenizerError("chat template raised an exception: \(error.message)")
            } catch let error as JinjaRuntimeError {
                failure = error.message
            }
        case .unparsable(let error):
            failure = "line \(error.line): \(error.message)"
        }
        guard let fallback else {
            throw TokenizerError("chat template not supported (\(failure)) and not recognised as a known family")
        }
        return try ChatTemplate(family: fallback)
            .render(messages, addGenerationPrompt: addGenerationPrompt, specialTokens: specialTokens)
    }
}

extension Tokenizer {
    /// Whether the tokenizer comes with a chat template (otherwise conversations render as plain
    /// `role: content` lines).
    public var hasChatTemplate: Bool { chatTemplate != nil }

    /// The ids a model is prompted with: `prompt` as plain text (with the tokenizer's special tokens), or, with
    /// `chat`, as one user turn rendered by the chat template up to the start of the assistant's reply.
    public func encodePrompt(_ prompt: String, chat: Bool) throws -> [Int] {
        guard chat else { return encode(prompt) }
        return encode(try applyChatTemplate([ChatMessage(role: "user", content: prompt)], addGenerationPrompt: true),
                      addSpecialTokens: false)
    }

    /// The conversation rendered with the tokenizer's chat template (tokenizer_config.json's
    /// `chat_template` or chat_template.jinja) exactly as `transformers`' `apply_chat_template(...,
    /// tokenize=False)` renders it, or as `role: content` lines when the tokenizer has no template.
    /// Encode the result with `addSpecialTokens: false`: the template writes BOS itself.
    /// `template` (Jinja source) replaces the tokenizer's own, e.g. for a model fine-tuned on another format.
    public func applyChatTemplate(_ messages: [ChatMessage], addGenerationPrompt: Bool, template source: String? = nil) throws -> String {
        let template = source.map(ChatTemplate.init) ?? chatTemplate ?? ChatTemplate(family: .plain)
        var specialTokens: [String: String] = [:]
        for (name, token) in [("bos_token", bosToken), ("eos_token", eosToken), ("unk_token", unknownToken), ("pad_token", padToken)] {
            specialTokens[name] = token
        }
        return try template.render(messages, addGenerationPrompt: addGenerationPrompt, specialTokens: specialTokens)
    }
}

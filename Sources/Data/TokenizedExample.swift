import Tokenizer

/// Token ids with a label per token: the token itself where the loss counts, `ignoredLabel` elsewhere.
public struct TokenizedExample: Sendable, Equatable {
    public static let ignoredLabel = -100

    public var ids: [Int]
    public var labels: [Int]

    public init(ids: [Int], labels: [Int]) {
        self.ids = ids
        self.labels = labels
    }

    /// Tokens the loss covers.
    public var trainedTokens: Int { labels.filter { $0 != Self.ignoredLabel }.count }

    /// The first `length` tokens.
    public func truncated(to length: Int) -> TokenizedExample {
        TokenizedExample(ids: Array(ids.prefix(length)), labels: Array(labels.prefix(length)))
    }
}

extension Demonstration {
    /// Prompt tokens (with the special tokens the tokenizer adds) + completion tokens (without) + EOS, the
    /// loss on the completion and EOS only; conversations are rendered with the chat template and the loss
    /// covers each assistant turn through its end-of-turn tokens.
    public func tokenized(with tokenizer: Tokenizer) throws -> TokenizedExample {
        switch self {
        case .completion(let prompt, let completion):
            let promptIDs = tokenizer.encode(prompt)
            let completionIDs = try tokenizer.encodeCompletion(completion)
            return TokenizedExample(ids: promptIDs + completionIDs,
                                    labels: [Int](repeating: TokenizedExample.ignoredLabel, count: promptIDs.count) + completionIDs)
        case .conversation(let messages):
            let render = { (messages: [ChatMessage], generationPrompt: Bool) in
                tokenizer.encode(try tokenizer.applyChatTemplate(messages, addGenerationPrompt: generationPrompt), addSpecialTokens: false)
            }
            let ids = try render(messages, false)
            var labels = [Int](repeating: TokenizedExample.ignoredLabel, count: ids.count)
            for (index, message) in messages.enumerated() where message.role == "assistant" {
                let before = try render(Array(messages[..<index]), true)
                let through = try render(Array(messages[...index]), false)
                guard through.count <= ids.count, Array(ids.prefix(through.count)) == through,
                      Array(through.prefix(before.count)) == before else {
                    throw TokenizerError("the chat template does not render this conversation turn by turn, so assistant turns cannot be located")
                }
                for position in before.count..<through.count { labels[position] = ids[position] }
            }
            return TokenizedExample(ids: ids, labels: labels)
        }
    }
}

extension Tokenizer {
    /// A completion that follows an encoded prompt: its tokens without special tokens, then EOS (TRL's recipe for
    /// SFT, preference and unpaired data).
    public func encodeCompletion(_ completion: String) throws -> [Int] {
        guard let eos = eosTokenID else { throw TokenizerError("the tokenizer has no EOS token to end completions with") }
        return encode(completion, addSpecialTokens: false) + [eos]
    }

    /// A generated completion's text: the tokens that stopped it and special tokens left out.
    public func decodeCompletion(_ ids: [Int], stopTokenIDs: Set<Int>) -> String {
        decode(ids.filter { !stopTokenIDs.contains($0) }, skipSpecialTokens: true)
    }
}

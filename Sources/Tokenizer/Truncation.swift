extension Tokenizer {
    /// The ids of `text` with the post-processor's special tokens, its content cut so that at most `maxTokens`
    /// ids result (transformers' `truncation=True`: the special tokens are kept).
    public func encode(_ text: String, maxTokens: Int) -> [Int] {
        let content = encode(text, addSpecialTokens: false)
        let specials = postProcessor.addSpecialTokens(to: []).count
        return postProcessor.addSpecialTokens(to: Array(content.prefix(max(maxTokens - specials, 0))))
    }
}

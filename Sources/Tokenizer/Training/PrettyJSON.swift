extension JSON {
    /// The document as `tokenizers` saves tokenizer.json (serde_json's pretty printer): two-space indents,
    /// `"key": value`, one item per line, non-ASCII characters as they are. That is Python's
    /// `json.dumps(indent=2, ensure_ascii=False)`, which the chat templates' `tojson` filter already writes.
    func prettyPrinted() -> String {
        // Serializing fails only for Jinja values that have no JSON form, which a JSON document never holds.
        try! JSONText.serialize(JinjaValue(self), indent: 2, sortKeys: false)
    }
}

extension JinjaValue {
    fileprivate init(_ json: JSON) {
        switch json {
        case .null: self = .none
        case .bool(let flag): self = .bool(flag)
        case .int(let number): self = .int(number)
        case .double(let number): self = .double(number)
        case .string(let text): self = .string(text)
        case .array(let items): self = .list(items.map(JinjaValue.init))
        case .object(let pairs): self = .dictionary(JinjaDictionary(pairs: pairs.map { ($0.key, JinjaValue($0.value)) }))
        }
    }
}

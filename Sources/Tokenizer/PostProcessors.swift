/// A tokenizer.json `post_processor`: adds the special tokens around an encoded text (only when the
/// caller asks for special tokens). Only single sequences are supported, not pairs.
protocol PostProcessor: Sendable {
    func addSpecialTokens(to ids: [Int]) -> [Int]
}

func makePostProcessor(_ json: JSON) throws -> any PostProcessor {
    let context = "post_processor \(json.typeName ?? "")"
    switch json.typeName {
    case "TemplateProcessing":
        return try TemplateProcessor(json, in: context)
    case "ByteLevel":
        // Only trims offsets, which this library does not report.
        return PostProcessorSequence(processors: [])
    case "RobertaProcessing", "BertProcessing":
        return TemplateProcessor(prefix: [try specialTokenID(json["cls"], "cls", in: context)],
                                 suffix: [try specialTokenID(json["sep"], "sep", in: context)])
    case "Sequence":
        return PostProcessorSequence(processors: try json.requiredArray("processors", in: context).map(makePostProcessor))
    default:
        throw TokenizerError.unsupported("post_processor", json.typeName)
    }
}

/// `["<s>", 0]`: a token and its id.
private func specialTokenID(_ json: JSON?, _ key: String, in context: String) throws -> Int {
    guard let pair = json?.array, pair.count == 2, let id = pair[1].int else {
        throw TokenizerError("\(context): \"\(key)\" must be [token, id]")
    }
    return id
}

/// Special tokens before and after the sequence, as given by the `single` template.
struct TemplateProcessor: PostProcessor {
    let prefix: [Int]
    let suffix: [Int]

    init(prefix: [Int], suffix: [Int]) {
        self.prefix = prefix
        self.suffix = suffix
    }

    init(_ json: JSON, in context: String) throws {
        var idsForSpecial: [String: [Int]] = [:]
        for (name, entry) in json["special_tokens"]?.object ?? [] {
            idsForSpecial[name] = try entry.requiredArray("ids", in: context).map {
                guard let id = $0.int else { throw TokenizerError("\(context): ids of \(name) must be integers") }
                return id
            }
        }
        var prefix: [Int] = []
        var suffix: [Int] = []
        var sawSequence = false
        for item in try json.requiredArray("single", in: context) {
            if item["Sequence"] != nil {
                guard !sawSequence else { throw TokenizerError("\(context): \"single\" names the sequence twice") }
                sawSequence = true
            } else if let name = item["SpecialToken"]?["id"]?.string {
                guard let ids = idsForSpecial[name] else { throw TokenizerError("\(context): special token \(name) is not in special_tokens") }
                if sawSequence { suffix += ids } else { prefix += ids }
            } else {
                throw TokenizerError("\(context): unsupported template item \(item)")
            }
        }
        self.init(prefix: prefix, suffix: suffix)
    }

    func addSpecialTokens(to ids: [Int]) -> [Int] { prefix + ids + suffix }
}

struct PostProcessorSequence: PostProcessor {
    let processors: [any PostProcessor]

    func addSpecialTokens(to ids: [Int]) -> [Int] { processors.reduce(ids) { $1.addSpecialTokens(to: $0) } }
}

import ArgumentParser

struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize", abstract: "Token ids of a text, as the model's tokenizer.json encodes it.")

    @OptionGroup var model: ModelOptions
    @OptionGroup var input: TextInput

    @Flag(help: "Leave out the special tokens the tokenizer adds (e.g. BOS).")
    var noSpecialTokens = false

    @Flag(help: "Print {\"ids\", \"tokens\", \"count\"} as JSON.")
    var json = false

    func run() throws {
        let tokenizer = try model.loadTokenizer()
        let ids = tokenizer.encode(try input.read(), addSpecialTokens: !noSpecialTokens)
        if json {
            struct Output: Encodable { let ids: [Int], tokens: [String], count: Int }
            try printJSON(Output(ids: ids, tokens: tokenizer.tokens(for: ids), count: ids.count))
        } else {
            print(ids.map(String.init).joined(separator: " "))
        }
    }
}

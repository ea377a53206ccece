import ArgumentParser
import Foundation
import Models
import Tokenizer

/// `--model DIR`: a Hugging Face model directory with its tokenizer.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "Model directory (config.json, *.safetensors, tokenizer.json).", transform: { URL(fileURLWithPath: $0) })
    var model: URL

    func loadTokenizer() throws -> Tokenizer { try Tokenizer(directory: model) }

    func load() throws -> (model: any CausalLanguageModel, tokenizer: Tokenizer) {
        (try ModelDirectory.load(model), try loadTokenizer())
    }
}

/// `--text S` or `--file F`: the text a command works on.
struct TextInput: ParsableArguments {
    @Option(help: "The text itself.")
    var text: String?

    @Option(help: "A UTF-8 text file to read instead.")
    var file: String?

    func validate() throws {
        guard (text == nil) != (file == nil) else { throw ValidationError("give exactly one of --text and --file") }
    }

    func read() throws -> String {
        if let text { return text }
        guard let data = FileManager.default.contents(atPath: file!) else {
            throw ValidationError("\(file!): cannot read the file")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw ValidationError("\(file!): not UTF-8 text") }
        return text
    }
}

/// Prints one sorted-key JSON object on stdout (`--json` output of every command).
func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    encoder.keyEncodingStrategy = .convertToSnakeCase
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

import ArgumentParser
import Foundation
import Models
import Tokenizer

/// `--model DIR|ID`: a Hugging Face model directory with its tokenizer, or a Hub id.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(modelHelp, valueName: "dir|id"))
    var model: String

    /// The model's directory (for a Hub id, its snapshot in the Hugging Face cache, downloaded when missing).
    func directory() throws -> URL { try ModelDirectory.locate(model) }

    func loadTokenizer() throws -> Tokenizer { try Tokenizer(directory: directory()) }

    /// A model of either family (decoder-only or T5) with its tokenizer.
    func loadLanguageModel() throws -> (model: any LanguageModel, tokenizer: Tokenizer) {
        let directory = try directory()
        return (try ModelDirectory.loadLanguageModel(directory), try Tokenizer(directory: directory))
    }

    func load() throws -> (model: any CausalLanguageModel, tokenizer: Tokenizer) {
        let directory = try directory()
        return (try ModelDirectory.load(directory), try Tokenizer(directory: directory))
    }
}

/// The help of every option naming a model.
let modelHelp = "Model directory (config.json, *.safetensors, tokenizer.json) or Hub id (owner/name[@revision]; "
    + "from the Hugging Face cache, downloaded when missing)."

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

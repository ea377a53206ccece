import ArgumentParser
import Foundation
import Tokenizer

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate", abstract: "Continue a prompt with the model (streams the text as it is made).",
        discussion: "An encoder-decoder model (T5, FLAN-T5) reads the prompt as its input and writes its answer.")

    @OptionGroup var model: ModelOptions

    @Option(help: "The prompt.")
    var prompt: String

    @Flag(help: "Wrap the prompt as a user message in the model's chat template.")
    var chat = false

    @OptionGroup var sampling: SamplingFlags

    @Flag(help: "Print {\"prompt_ids\", \"ids\", \"text\", \"stop_reason\"} as JSON instead of streaming.")
    var json = false

    func run() throws {
        let (model, tokenizer) = try self.model.loadLanguageModel()
        let promptIDs = try tokenizer.encodePrompt(prompt, chat: chat)
        let completion = try Completion(model: model, tokenizer: tokenizer, promptIDs: promptIDs,
                                        options: sampling.options(defaultTemperature: 0, tokenizer: tokenizer),
                                        stopStrings: sampling.stopStrings) { piece in
            if !json { FileHandle.standardOutput.write(Data(piece.utf8)) }
        }
        if json {
            struct Output: Encodable { let promptIds: [Int], ids: [Int], text: String, stopReason: Completion.StopReason }
            try printJSON(Output(promptIds: promptIDs, ids: completion.ids, text: completion.text, stopReason: completion.stopReason))
        } else {
            print()
        }
    }
}

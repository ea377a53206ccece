import ArgumentParser
import Foundation
import Tokenizer

struct ChatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat",
        abstract: "Talk to the model: each line you type is a user turn, answers stream back. Ctrl-D or /exit ends.")

    @OptionGroup var model: ModelOptions

    @Option(help: "A system message opening the conversation.")
    var system: String?

    @OptionGroup var sampling: SamplingFlags

    func run() throws {
        let (model, tokenizer) = try self.model.load()
        var messages = system.map { [ChatMessage(role: "system", content: $0)] } ?? []
        var turn = 0
        while true {
            FileHandle.standardError.write(Data("> ".utf8))
            guard let line = readLine(), line != "/exit" else { break }
            guard !line.trimmingCharacters(in: .whitespaces).isEmpty else { continue }
            messages.append(ChatMessage(role: "user", content: line))
            let promptIDs = tokenizer.encode(try tokenizer.applyChatTemplate(messages, addGenerationPrompt: true),
                                             addSpecialTokens: false)
            var options = sampling.options(defaultTemperature: 0.7, tokenizer: tokenizer)
            options.sampling.seed &+= UInt64(turn)
            let reply = try Completion(model: model, tokenizer: tokenizer, promptIDs: promptIDs, options: options,
                                       stopStrings: sampling.stopStrings) { piece in
                FileHandle.standardOutput.write(Data(piece.utf8))
            }
            print()
            messages.append(ChatMessage(role: "assistant", content: reply.text))
            turn += 1
        }
    }
}

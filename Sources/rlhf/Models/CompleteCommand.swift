import ArgumentParser
import Data
import Foundation
import Models
import Tokenizer

struct CompleteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "complete",
        abstract: "Sample several completions per prompt for human labeling.",
        discussion: """
            Prompts: JSONL lines {"prompt": "...", "id": ...}. Writes {"id", "prompt", "completions": [...]} lines \
            (the format `rlhf feedback import` and the labeling app read). All K samples of a prompt, and several \
            prompts, run as one left-padded batch; each row has its own seed.
            """)

    @OptionGroup var model: ModelOptions

    @Option(help: "Prompts (JSONL).", transform: { URL(fileURLWithPath: $0) })
    var prompts: URL

    @Option(name: .customShort("n"), help: "Completions per prompt.")
    var n = 4

    @Option(help: "Output file (JSONL).", transform: { URL(fileURLWithPath: $0) })
    var out: URL

    @Option(help: "Prompts per batch (each contributes -n rows).")
    var batchPrompts = 4

    @Flag(help: "Wrap each prompt as a user message in the model's chat template.")
    var chat = false

    @OptionGroup var sampling: SamplingFlags

    func validate() throws {
        guard n > 0, batchPrompts > 0 else { throw ValidationError("-n and --batch-prompts must be positive") }
    }

    func run() throws {
        let records = try PromptRecord.load(prompts)
        let (model, tokenizer) = try self.model.load()
        let options = sampling.options(defaultTemperature: 1, tokenizer: tokenizer)
        let generator = TextGenerator(model: model)
        let progress = ProgressLine(enabled: true)
        var sets: [CompletionSet] = []
        for start in stride(from: 0, to: records.count, by: batchPrompts) {
            let batch = Array(records[start..<min(records.count, start + batchPrompts)])
            progress.say("prompts \(start + batch.count)/\(records.count)")
            let encoded = try batch.map { try tokenizer.encodePrompt($0.prompt, chat: chat) }
            var batchOptions = options
            batchOptions.sampling.seed &+= UInt64(start * n)  // every row of the run gets its own seed
            let rows = try generator.generate(encoded.flatMap { Array(repeating: $0, count: n) }, options: batchOptions)
            for (index, record) in batch.enumerated() {
                let texts = rows[(index * n)..<((index + 1) * n)].map { ids in
                    tokenizer.decode(ids.filter { !options.stopTokenIDs.contains($0) }, skipSpecialTokens: true)
                }
                sets.append(CompletionSet(id: record.id, prompt: record.prompt, completions: texts))
            }
        }
        progress.clear()
        try JSONLines.write(sets, to: out)
        FileHandle.standardError.write(Data("wrote \(sets.count) prompts × \(n) completions to \(out.path)\n".utf8))
    }
}

import Alignment
import ArgumentParser
import Foundation

struct CompleteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "complete",
        abstract: "Sample several completions per prompt for human labeling.",
        discussion: """
            Prompts: JSONL lines {"prompt": "...", "id": ...}. Writes {"id", "prompt", "completions": [...]} lines \
            (the format `rlhf feedback import` and the labeling app read). All K samples of a prompt, and several \
            prompts, run as one left-padded batch; each row has its own seed. The library call is CompletionConfig.run.
            """)

    private static let defaults = CompletionConfig()

    @Option(help: ArgumentHelp(modelHelp, valueName: "dir|id")) var model: String
    @Option(help: "Prompts (JSONL).") var prompts: String
    @Option(name: .customShort("n"), help: help("Completions per prompt.", default: defaults.n)) var n: Int?
    @Option(help: "Output file (JSONL).") var out: String
    @Option(help: help("Prompts per batch (each contributes -n rows).", default: defaults.batchPrompts)) var batchPrompts: Int?
    @Flag(help: "Wrap each prompt as a user message in the model's chat template.") var chat = false
    @Option(help: help("Most tokens to generate.", default: defaults.maxNewTokens)) var maxNewTokens: Int?
    @Option(help: help("Softmax temperature; 0 = greedy.", default: defaults.temperature)) var temperature: Float?
    @Option(help: help("Sample only from the k most likely tokens (0 = off).", default: defaults.topK)) var topK: Int?
    @Option(help: help("Sample only from the most likely tokens whose probability adds up to p (1 = off).", default: defaults.topP)) var topP: Float?
    @Option(help: help("Random seed for sampling.", default: defaults.seed)) var seed: UInt64?

    func run() throws {
        var config = CompletionConfig()
        (config.model, config.prompts, config.out, config.chat) = (model, prompts, out, chat)
        set(&config.n, n)
        set(&config.batchPrompts, batchPrompts)
        set(&config.maxNewTokens, maxNewTokens)
        set(&config.temperature, temperature)
        set(&config.topK, topK)
        set(&config.topP, topP)
        set(&config.seed, seed)
        let progress = ProgressLine(enabled: true)
        let sets = try config.run { progress.say($0) }
        progress.clear()
        FileHandle.standardError.write(Data("wrote \(sets.count) prompts × \(config.n) completions to \(out)\n".utf8))
    }
}

import Alignment
import ArgumentParser
import Foundation

struct ConstitutionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "constitution",
        abstract: "Constitutional AI: critique-and-revise SFT data, and AI-labelled preferences (RLAIF).",
        subcommands: [ConstitutionReviseCommand.self, ConstitutionLabelCommand.self, ConstitutionShowCommand.self])
}

private let constitutionHelp = ArgumentHelp("A constitution JSON file (default: RLHFKit's own; `rlhf constitution show` prints it).",
                                            valueName: "file")

struct ConstitutionReviseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revise",
        abstract: "The model answers each prompt, then critiques and revises its answer under sampled principles.",
        discussion: """
            Prompts: JSONL {"prompt": "...", "id"?}. Each conversation runs in the model's chat template, after the \
            constitution's worked examples: the answer, then per round a principle's critique request, the critique, \
            its revision request and the revision. Writes {"prompt", "completion"} lines (the final revisions, SFT \
            data for `rlhf sft`) to --out and every intermediate text with its principle to --trace. The library call \
            is ConstitutionReviseConfig.run.
            """)

    private static let defaults = ConstitutionReviseConfig()

    @Option(help: ArgumentHelp(modelHelp, valueName: "dir|id")) var model: String
    @Option(help: "Prompts (JSONL).") var prompts: String
    @Option(help: constitutionHelp) var constitution: String?
    @Option(help: "SFT data out (JSONL).") var out: String
    @Option(help: "The audit trail (JSONL; default: --out with .trace.jsonl).") var trace: String?
    @Option(help: help("Critique-and-revision rounds per prompt.", default: defaults.rounds)) var rounds: Int?
    @Option(help: help("Prompts per batch.", default: defaults.batchPrompts)) var batchPrompts: Int?
    @Option(help: help("Most tokens per answer, critique or revision.", default: defaults.maxNewTokens)) var maxNewTokens: Int?
    @Option(help: help("Softmax temperature; 0 = greedy.", default: defaults.temperature)) var temperature: Float?
    @Option(help: help("Random seed for sampling and for the principles.", default: defaults.seed)) var seed: UInt64?

    func run() throws {
        var config = ConstitutionReviseConfig()
        (config.model, config.prompts, config.out) = (model, prompts, out)
        set(&config.constitution, constitution)
        set(&config.trace, trace)
        set(&config.rounds, rounds)
        set(&config.batchPrompts, batchPrompts)
        set(&config.maxNewTokens, maxNewTokens)
        set(&config.temperature, temperature)
        set(&config.seed, seed)
        let progress = ProgressLine(enabled: true)
        let traces = try config.run { progress.say($0) }
        progress.clear()
        let empty = traces.filter(\.final.isEmpty).count
        FileHandle.standardError.write(Data(("wrote \(traces.count - empty) revisions to \(out)" + (empty > 0 ? " (\(empty) empty ones left out)" : "")
                                             + " and every step to \(config.tracePath)\n").utf8))
    }
}

struct ConstitutionLabelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "label",
        abstract: "A judge model labels every pair of each prompt's completions under sampled principles (soft labels).",
        discussion: """
            Data: the labeling format, JSONL {"prompt", "completions": [...]}. For each pair the judge reads a \
            multiple-choice question (the principle's preference question, options (A) and (B)) in both orders; the \
            preference is the normalised probability of the option tokens, averaged over the two orders so that a \
            position bias cancels. Writes {"prompt", "chosen", "rejected", "preference", "principle"} lines with \
            preference = P(chosen is better) ≥ 0.5, which `rlhf reward train` and `rlhf dpo` take as soft labels. \
            The library call is ConstitutionLabelConfig.run.
            """)

    private static let defaults = ConstitutionLabelConfig()

    @Option(help: ArgumentHelp("The judge model: directory or Hub id.", valueName: "dir|id")) var judge: String
    @Option(help: "Prompts with completions (JSONL).") var data: String
    @Option(help: constitutionHelp) var constitution: String?
    @Option(help: "Preference pairs out (JSONL).") var out: String
    @Option(help: help("Comparisons scored per forward pass.", default: defaults.batchSize)) var batchSize: Int?
    @Option(help: help("Seed for the principles.", default: defaults.seed)) var seed: UInt64?

    func run() throws {
        var config = ConstitutionLabelConfig()
        (config.judge, config.data, config.out) = (judge, data, out)
        set(&config.constitution, constitution)
        set(&config.batchSize, batchSize)
        set(&config.seed, seed)
        let progress = ProgressLine(enabled: true)
        let pairs = try config.run { progress.say($0) }
        progress.clear()
        let confident = pairs.filter { $0.preference >= 0.75 }.count
        FileHandle.standardError.write(Data("wrote \(pairs.count) pairs to \(out) (\(confident) with preference ≥ 0.75)\n".utf8))
    }
}

struct ConstitutionShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Print a constitution (default: RLHFKit's own) as JSON, to start a new one from.")

    @Option(help: constitutionHelp) var constitution: String?

    func run() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(try Constitution.load(constitution ?? "")), as: UTF8.self))
    }
}

import Alignment
import ArgumentParser
import Foundation

struct TokenizerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenizer", abstract: "Make tokenizers.", subcommands: [TokenizerTrainCommand.self])
}

struct TokenizerTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a byte-level BPE tokenizer on text files.",
        discussion: """
            Learns merges as the tokenizers library's BpeTrainer does and writes a Hugging Face tokenizer directory \
            (tokenizer.json, tokenizer_config.json) in GPT-2's layout: ids 0-2 are <|endoftext|> (BOS, padding, and \
            the separator to put between documents), <|im_start|> and <|im_end|> (EOS: generation stops at the end \
            of a chat turn), then the 256 byte tokens and the merges. The ChatML chat template is included, so the \
            tokenizer serves `rlhf pretrain` and then chat fine-tuning. The library call is TokenizerTrainingConfig.run.
            """)

    @Option(help: "A UTF-8 text file to train on, one document (repeat for more files).")
    var data: [String] = []

    @Option(help: "Ids in all: 3 special tokens, 256 byte tokens and the merges.")
    var vocabSize: Int

    @Option(help: "Output directory.")
    var out: String

    @Option(help: help("The fewest occurrences a pair of tokens needs to be merged.", default: TokenizerTrainingConfig().minFrequency))
    var minFrequency: Int?

    @Flag(help: "Replace what --out holds when it is a model or tokenizer directory.")
    var overwrite = false

    func run() throws {
        var config = TokenizerTrainingConfig(data: data, vocabSize: vocabSize, out: out)
        set(&config.minFrequency, minFrequency)
        let started = Date()
        let progress = ProgressLine(enabled: true)
        let trained = try config.run(overwrite: overwrite) { progress.say($0) }
        progress.clear()
        print("\(out): \(trained.vocabularySize) tokens (\(trained.mergeCount) merges) in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
    }
}

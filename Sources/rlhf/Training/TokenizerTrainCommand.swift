import ArgumentParser
import Foundation
import Tokenizer

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
            tokenizer serves `rlhf pretrain` and then chat fine-tuning.
            """)

    @Option(help: "A UTF-8 text file to train on, one document (repeat for more files).", transform: { URL(fileURLWithPath: $0) })
    var data: [URL]

    @Option(help: "Ids in all: 3 special tokens, 256 byte tokens and the merges.")
    var vocabSize: Int

    @Option(help: "Output directory.", transform: { URL(fileURLWithPath: $0) })
    var out: URL

    @Option(help: "The fewest occurrences a pair of tokens needs to be merged.")
    var minFrequency = 2

    func validate() throws {
        guard !data.isEmpty else { throw ValidationError("give at least one --data file") }
        guard minFrequency >= 1 else { throw ValidationError("--min-frequency must be at least 1") }
    }

    func run() throws {
        let started = Date()
        let progress = ProgressLine(enabled: true)
        progress.say("counting words…")
        let trained = try BPETrainer(vocabularySize: vocabSize, minFrequency: minFrequency).train(files: data) { done, total in
            // About a hundred updates: a terminal write per merge would cost more than the merge.
            if done == total || done % max(total / 100, 1) == 0 { progress.say("merges \(done)/\(total)") }
        }
        progress.clear()
        try trained.save(to: out)
        let seconds = String(format: "%.1f", Date().timeIntervalSince(started))
        print("\(out.path): \(trained.vocabularySize) tokens (\(trained.mergeCount) merges) in \(seconds) s")
    }
}

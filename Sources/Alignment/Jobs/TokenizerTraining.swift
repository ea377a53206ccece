import Data
import Foundation
import Models
import Tokenizer

/// A byte-level BPE tokenizer trained on text files, as `rlhf tokenizer train` does it: merges as the tokenizers
/// library's BpeTrainer learns them, written as a Hugging Face tokenizer directory in GPT-2's layout with the
/// ChatML specials (ids 0-2: <|endoftext|>, <|im_start|>, <|im_end|>) and chat template.
public struct TokenizerTrainingConfig: JobConfiguration {
    public static let command = "tokenizer train"

    /// UTF-8 text files to train on, each one document.
    public var data: [String] = []
    /// Ids in all: 3 special tokens, 256 byte tokens and the merges.
    public var vocabSize = 0
    public var out = ""
    /// The fewest occurrences a pair of tokens needs to be merged.
    public var minFrequency = 2

    public init() {}

    public init(data: [String], vocabSize: Int, out: String) {
        (self.data, self.vocabSize, self.out) = (data, vocabSize, out)
    }

    public func validate() throws {
        guard !data.isEmpty else { throw JobError("data: give at least one text file") }
        try Check.positive(vocabSize, "vocab_size")
        try Check.required(out, "out")
        if minFrequency < 1 { throw JobError("min_frequency must be at least 1 (got \(minFrequency))") }
    }

    /// Trains and writes the tokenizer; `progress` hears about a hundred updates. `overwrite` lets it replace a
    /// directory that already holds a model or tokenizer.
    @discardableResult
    public func run(overwrite: Bool = false, progress: @escaping (String) -> Void = { _ in }) throws -> TrainedTokenizer {
        try validate()
        let claim = try OutputDirectory(URL(fileURLWithPath: out), inputs: [], overwrite: overwrite)
        defer { withExtendedLifetime(claim) {} }
        progress("counting words…")
        let trained = try BPETrainer(vocabularySize: vocabSize, minFrequency: minFrequency)
            .train(files: data.map { URL(fileURLWithPath: $0) }) { done, total in
                // A terminal write per merge would cost more than the merge.
                if done == total || done % max(total / 100, 1) == 0 { progress("merges \(done)/\(total)") }
            }
        _ = try trained.save(to: URL(fileURLWithPath: out))
        return trained
    }
}

import Alignment
import ArgumentParser
import Data
import Foundation
import Models

struct ClassifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify",
        abstract: "Each text's logits and probabilities per label, from a sequence classifier.",
        discussion: """
            Works with encoder classifiers (BERT, RoBERTa, XLM-R, DeBERTa-v2 *ForSequenceClassification) and with \
            RLHFKit's own reward models and classifiers. Texts longer than the model's positions are cut (special \
            tokens kept). --data reads JSONL with a "text" field per line; with --json, one \
            {"labels": [...], "logits": [...], "probs": [...]} line per text, in input order.
            """)

    @Option(help: ArgumentHelp(modelHelp, valueName: "dir|id"))
    var model: String

    @Option(help: "One text to classify.")
    var text: String?

    @Option(help: "JSONL file with a \"text\" field on every line.")
    var data: String?

    @Option(help: "Texts scored per forward pass.")
    var batchSize = 16

    @Flag(help: "One JSON object per text instead of a table.")
    var json = false

    func validate() throws {
        guard (text == nil) != (data == nil) else { throw ValidationError("give exactly one of --text and --data") }
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
    }

    func run() throws {
        let texts = try text.map { [$0] } ?? JSONLines.records(URL(fileURLWithPath: data!)).map { try $0.string("text", allowEmpty: true) }
        let classifier = try TextClassifier(directory: try ModelDirectory.locate(model), batchSize: batchSize)
        let progress = ProgressLine(enabled: texts.count > batchSize)
        for start in stride(from: 0, to: texts.count, by: batchSize) {
            let chunk = Array(texts[start..<min(start + batchSize, texts.count)])
            progress.say("classified \(start)/\(texts.count)")
            let results = try classifier.classify(chunk)
            progress.clear()
            for (text, result) in zip(chunk, results) {
                if json { try printJSON(result) } else { print(Self.row(text, result)) }
            }
        }
    }

    /// `label p (logit)` per label after the text's first line (escaped, at most 60 characters).
    static func row(_ text: String, _ result: Classification) -> String {
        let firstLine = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        let shown = String(firstLine.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }.prefix(60).map(Character.init))
        let scores = zip(result.labels, zip(result.probs, result.logits)).map { label, score in
            String(format: "%@ %.4f (%.4f)", label, score.0, score.1)
        }
        return "\(shown.debugDescription)\t" + scores.joined(separator: "  ")
    }
}

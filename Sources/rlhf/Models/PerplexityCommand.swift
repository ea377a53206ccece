import ArgumentParser
import Foundation
import Data
import Models

struct PerplexityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "perplexity",
        abstract: "Mean next-token negative log-likelihood of a text and its exponential (perplexity).",
        discussion: """
            The text is tokenized as the tokenizer does by default (BOS included when its post-processor adds \
            it); every token after the first is predicted from the ones before it. Texts longer than the model's \
            positions (or --window) are scored in consecutive windows. For an encoder-decoder model (T5) the text \
            is the target after --input (default: empty) and every token is predicted.
            """)

    @OptionGroup var model: ModelOptions

    @Option(help: "UTF-8 text file to score.")
    var file: String

    @Option(help: "Longest window scored at once.")
    var window = 1024

    @Option(help: "Encoder-decoder models: the input the text follows.")
    var input = ""

    @Flag(help: "Print {\"mean_nll\", \"perplexity\", \"tokens\", \"predicted_tokens\"} as JSON.")
    var json = false

    func run() throws {
        let (model, tokenizer) = try self.model.loadLanguageModel()
        let text = try TextInput(text: nil, file: file).read()
        let ids: [Int], result: PerplexityResult
        if let t5 = model as? T5 {
            ids = try tokenizer.encodeCompletion(text)
            result = try t5.perplexity(of: ids, input: tokenizer.encode(input))
        } else {
            ids = tokenizer.encode(text)
            result = try (model as! any CausalLanguageModel).perplexity(of: ids, window: window)
        }
        if json {
            struct Output: Encodable { let meanNll: Double, perplexity: Double, tokens: Int, predictedTokens: Int }
            try printJSON(Output(meanNll: result.meanNLL, perplexity: result.perplexity, tokens: ids.count,
                                 predictedTokens: result.predictedTokens))
        } else {
            print(String(format: "tokens %d, mean NLL %.6f nats, perplexity %.4f", ids.count, result.meanNLL, result.perplexity))
        }
    }
}

extension TextInput {
    init(text: String?, file: String?) {
        self.init()
        self.text = text
        self.file = file
    }
}

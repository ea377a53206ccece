import ArgumentParser
import Models
import Tokenizer

/// Generation flags shared by `generate` and `chat`.
struct SamplingFlags: ParsableArguments {
    @Option(help: "Most tokens to generate.")
    var maxNewTokens = 128

    @Option(help: "Softmax temperature; 0 = greedy (default: 0 for generate, 0.7 for chat).")
    var temperature: Float?

    @Option(help: "Sample only from the k most likely tokens (0 = off).")
    var topK = 0

    @Option(help: "Sample only from the most likely tokens whose probability adds up to p (1 = off).")
    var topP: Float = 1

    @Option(help: "Random seed for sampling.")
    var seed: UInt64 = 0

    @Option(name: .customLong("stop"), help: "Stop when this text appears (repeatable); the text is not printed.")
    var stopStrings: [String] = []

    func validate() throws {
        guard maxNewTokens > 0 else { throw ValidationError("--max-new-tokens must be positive") }
        guard (temperature ?? 0) >= 0, topK >= 0, topP > 0, topP <= 1 else {
            throw ValidationError("--temperature must be ≥ 0, --top-k ≥ 0, --top-p in (0, 1]")
        }
    }

    func options(defaultTemperature: Float, tokenizer: Tokenizer) -> TextGenerator.Options {
        TextGenerator.Options(
            maxNewTokens: maxNewTokens,
            sampling: SamplingOptions(temperature: temperature ?? defaultTemperature, topK: topK, topP: topP, seed: seed),
            stopTokenIDs: tokenizer.eosTokenIDs, padTokenID: tokenizer.paddingID)
    }
}

/// One completion of a prompt, streamed as text, ending at EOS, a stop string or the token limit.
struct Completion {
    enum StopReason: String, Encodable { case eos, stopString = "stop_string", length }

    var ids: [Int] = []
    var text = ""
    var stopReason = StopReason.length

    init(model: any LanguageModel, tokenizer: Tokenizer, promptIDs: [Int], options: TextGenerator.Options,
         stopStrings: [String], onText: (String) -> Void) throws {
        var decoder = StreamingDecoder(tokenizer: tokenizer, skipSpecialTokens: true)
        var printed = 0  // characters of `text` already handed to onText
        // Text that might be the start of a stop string is held back until it is known not to be.
        let holdBack = stopStrings.map(\.count).max().map { $0 - 1 } ?? 0
        _ = try model.generate([promptIDs], options: options) { _, token in
            ids.append(token)
            if options.stopTokenIDs.contains(token) {
                stopReason = .eos
                return false
            }
            text += decoder.append(token)
            if let stop = stopStrings.compactMap({ text.range(of: $0) }).min(by: { $0.lowerBound < $1.lowerBound }) {
                text = String(text[..<stop.lowerBound])
                stopReason = .stopString
                return false
            }
            let safe = max(printed, text.count - holdBack)
            if safe > printed {
                onText(String(text.dropFirst(printed).prefix(safe - printed)))
                printed = safe
            }
            return true
        }
        if stopReason == .length { text += decoder.flush() }
        if text.count > printed { onText(String(text.dropFirst(printed))) }
    }
}

import Models
import NN
import Tensor
import XCTest

final class GenerationTests: XCTestCase {
    /// The cache only saves work: greedy tokens are the same with and without it, for both families.
    func testCachedAndUncachedGreedyGenerationAgree() throws {
        for json in [TinyModels.gpt2JSON, TinyModels.llamaJSON] {
            let generator = TextGenerator(model: try TinyModels.make(json))
            let prompt = [[3, 14, 15, 9, 2, 6]]
            let cached = try generator.generate(prompt, options: .init(maxNewTokens: 12, sampling: .greedy))
            let uncached = try generator.generate(prompt, options: .init(maxNewTokens: 12, sampling: .greedy, useCache: false))
            XCTAssertEqual(cached, uncached)
            XCTAssertEqual(cached[0].count, 12)
        }
    }

    /// Left padding must not change anything: each prompt in a batch gets what it gets alone.
    func testBatchedGenerationEqualsOneByOne() throws {
        for json in [TinyModels.gpt2JSON, TinyModels.llamaJSON] {
            let generator = TextGenerator(model: try TinyModels.make(json, seed: 1))
            let prompts = [[5, 6, 7], [1, 2, 3, 4, 5, 6, 7, 8], [9]]
            let options = TextGenerator.Options(maxNewTokens: 10, sampling: .greedy, padTokenID: 0)
            let batched = try generator.generate(prompts, options: options)
            let alone = try prompts.map { try generator.generate([$0], options: options)[0] }
            XCTAssertEqual(batched, alone)
        }
    }

    func testStopTokenEndsOnlyItsRowAndIsIncluded() throws {
        let generator = TextGenerator(model: try TinyModels.make(TinyModels.gpt2JSON))
        let free = try generator.generate([[1, 2, 3]], options: .init(maxNewTokens: 8, sampling: .greedy))[0]
        let stop = free[3]
        let stopped = try generator.generate([[1, 2, 3]], options: .init(maxNewTokens: 8, sampling: .greedy, stopTokenIDs: [stop]))[0]
        XCTAssertEqual(stopped, Array(free.prefix(through: free.firstIndex(of: stop)!)))
        // The callback can end a row too.
        var seen = 0
        let cut = try generator.generate([[1, 2, 3]], options: .init(maxNewTokens: 8, sampling: .greedy)) { _, _ in
            seen += 1
            return seen < 2
        }[0]
        XCTAssertEqual(cut, Array(free.prefix(2)))
    }

    /// Rows that finish leave the batch (the cache keeps only the live rows once a quarter has finished): every row,
    /// sampled or greedy, cached or not, still gets exactly what it gets alone, and callbacks name the original rows.
    func testFinishedRowsLeaveTheBatchWithoutChangingTheOthers() throws {
        for json in [TinyModels.gpt2JSON, TinyModels.llamaJSON] {
            let generator = TextGenerator(model: try TinyModels.make(json, seed: 2))
            let prompts = [[5, 6, 7], [1, 2, 3, 4], [9], [11, 12], [13, 4, 8], [2]]
            let free = try generator.generate(prompts, options: .init(maxNewTokens: 12, sampling: .greedy, padTokenID: 0))
            // Stop tokens that end rows at different steps: row 0 after 2 tokens, row 2 after 5 (if they are not met earlier).
            let stops: Set<Int> = [free[0][1], free[2][4]]
            for (sampling, useCache, drops) in [(SamplingOptions.greedy, true, true), (.greedy, false, true), (SamplingOptions(temperature: 1, seed: 3), true, true),
                                                (SamplingOptions(temperature: 1, seed: 3), true, false)] {
                var options = TextGenerator.Options(maxNewTokens: 12, sampling: sampling, stopTokenIDs: stops, padTokenID: 0, useCache: useCache)
                options.dropsFinishedRows = drops
                var calls: [Int: [Int]] = [:]
                let batched = try generator.generate(prompts, options: options) { row, token in
                    calls[row, default: []].append(token)
                    return true
                }
                let alone = try prompts.indices.map { row in
                    var single = options
                    single.sampling.seed &+= UInt64(row)  // the batch advances each row's seed by its index
                    return try generator.generate([prompts[row]], options: single)[0]
                }
                XCTAssertEqual(batched, alone, "\(sampling), cache \(useCache), dropping finished rows \(drops)")
                XCTAssertTrue(batched.contains { $0.count < 12 } && batched.contains { $0.count == 12 }, "\(batched)")
                for (row, tokens) in batched.enumerated() where !tokens.isEmpty {
                    XCTAssertEqual(calls[row].map { Array($0) } ?? [], stops.contains(tokens.last!) ? Array(tokens.dropLast()) : tokens)
                }
            }
        }
    }

    func testSamplingIsSeededAndRespectsTopK() throws {
        let model = try TinyModels.make(TinyModels.llamaJSON)
        let generator = TextGenerator(model: model)
        let options = TextGenerator.Options(maxNewTokens: 16, sampling: SamplingOptions(temperature: 1.5, seed: 7))
        let a = try generator.generate([[1, 2]], options: options), b = try generator.generate([[1, 2]], options: options)
        XCTAssertEqual(a, b)
        var other = options
        other.sampling.seed = 8
        XCTAssertNotEqual(a, try generator.generate([[1, 2]], options: other))
        // top-k 1 is greedy whatever the temperature.
        var topOne = options
        topOne.sampling.topK = 1
        XCTAssertEqual(try generator.generate([[1, 2]], options: topOne),
                       try generator.generate([[1, 2]], options: .init(maxNewTokens: 16, sampling: .greedy)))
        // A tiny top-p keeps only the most likely token: greedy too.
        var nucleus = options
        nucleus.sampling.topP = 1e-6
        XCTAssertEqual(try generator.generate([[1, 2]], options: nucleus),
                       try generator.generate([[1, 2]], options: .init(maxNewTokens: 16, sampling: .greedy)))
    }

    func testPerplexityIsExpOfMeanNLLAndWindowsCoverLongTexts() throws {
        let model = try TinyModels.make(TinyModels.gpt2JSON)
        let ids = (0..<100).map { ($0 * 7) % 40 }
        let result = try model.perplexity(of: ids, window: 1024)  // 100 > 64 positions: two windows
        XCTAssertEqual(result.predictedTokens, 63 + 35)
        XCTAssertEqual(result.perplexity, exp(result.meanNLL), accuracy: 1e-9)
        let first = try model.perplexity(of: Array(ids.prefix(64)))
        XCTAssertEqual(first.predictedTokens, 63)
    }

    /// Refused before any token is made: past the position table, or more than the machine's memory holds.
    func testPositionsPastTheTableOrTheMemoryFailClearlyBeforeGenerating() throws {
        let generator = TextGenerator(model: try TinyModels.make(TinyModels.gpt2JSON))
        var tokens = 0
        XCTAssertThrowsError(try generator.generate([Array(repeating: 1, count: 60)], options: .init(maxNewTokens: 10)) { _, _ in
            tokens += 1
            return true
        }) { error in
            XCTAssertTrue("\(error)".contains("a 60-token prompt and 10 new tokens need 70 positions, more than the model's 64"), "\(error)")
        }
        // Each row of a 40-token prompt and 8 new tokens needs about 29 kB of cache and logits here, far more than 4 kB.
        let rows = Int(ProcessInfo.processInfo.physicalMemory / 4000)
        XCTAssertThrowsError(try generator.generate(Array(repeating: Array(repeating: 1, count: 40), count: rows), options: .init(maxNewTokens: 8)) { _, _ in
            tokens += 1
            return true
        }) { error in
            XCTAssertTrue("\(error)".contains("sequences of up to 48 tokens need about"), "\(error)")
        }
        XCTAssertEqual(tokens, 0)
    }
}

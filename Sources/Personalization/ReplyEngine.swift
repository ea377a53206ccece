import Alignment
import Data
import Foundation
import Models
import NN
import Synchronization
import Tensor
import Tokenizer

/// Which weights a reply row runs with: a user's adapter version, or none (the base model).
struct AdapterKey: Hashable, Sendable {
    let user: Int64
    let version: Int
}

/// One request for replies to one prompt: a row per reply, each with its own sampling.
struct ReplyRequest: Sendable {
    let prompt: [Int]
    let samplings: [SamplingOptions]
    let maxNewTokens: Int
    let adapter: AdapterKey?
    /// A piece of reply `index`'s text as it is decoded.
    let onText: @Sendable (_ index: Int, _ piece: String) -> Void
}

/// Decodes replies for every user on one copy of the base model. Requests wait in a bounded queue; a dedicated
/// thread takes all that are waiting (up to `maxBatchRows` rows) and decodes them as one batch, each row through its
/// user's adapter (`LoRAAdapters.withRowWeights`), so concurrent users share each step's matrix products.
/// Adapters are loaded from disk on first use and kept in an LRU of `capacity` users.
final class ReplyEngine: @unchecked Sendable {
    let model: any CausalLanguageModel
    let tokenizer: Tokenizer
    private let adapters: LoRAAdapters
    private let files: AdapterFiles
    private let maxBatchRows: Int
    private let queueLimit: Int
    private let condition = NSCondition()
    private var queue: [(request: ReplyRequest, done: @Sendable (Result<[String], any Error>) -> Void)] = []
    private let cache: Mutex<AdapterCache>
    private let statistics = Mutex(EngineStatistics())

    /// Attaches the serving adapters (zero until a user's weights are put in) to `model`.
    init(model: any CausalLanguageModel, tokenizer: Tokenizer, lora: LoRAConfig, files: AdapterFiles, maxBatchRows: Int,
         queueLimit: Int, loadedAdapters: Int) throws {
        (self.model, self.tokenizer, self.files, self.maxBatchRows, self.queueLimit) = (model, tokenizer, files, maxBatchRows, queueLimit)
        adapters = try lora.attach(to: model, baseModel: "", seed: 0)!
        adapters.isTraining = false
        cache = Mutex(AdapterCache(capacity: loadedAdapters))
        let thread = Thread { [unowned self] in self.serve() }
        thread.name = "rlhf-replies"
        thread.start()
    }

    /// The replies' texts (stop tokens and special tokens left out), streamed piece by piece through `onText`.
    func replies(_ request: ReplyRequest) async throws -> [String] {
        try await withCheckedThrowingContinuation { continuation in
            condition.lock()
            defer { condition.unlock() }
            guard queue.count < queueLimit else {
                continuation.resume(throwing: PersonalizationError.busy("\(queue.count) requests are waiting for the model; try again shortly"))
                return
            }
            queue.append((request, { continuation.resume(with: $0) }))
            condition.signal()
        }
    }

    /// Drops a user's loaded adapter (a new version, a rollback, a deleted user).
    func evict(user: Int64) {
        cache.withLock { $0.remove(user: user) }
    }

    var loadedAdapterCount: Int { cache.withLock { $0.count } }

    var snapshot: EngineStatistics { statistics.withLock { $0 } }

    private func serve() {
        while true {
            condition.lock()
            while queue.isEmpty { condition.wait() }
            var batch: [(request: ReplyRequest, done: @Sendable (Result<[String], any Error>) -> Void)] = []
            var rows = 0
            while let next = queue.first, batch.isEmpty || rows + next.request.samplings.count <= maxBatchRows {
                batch.append(queue.removeFirst())
                rows += next.request.samplings.count
            }
            condition.unlock()
            do {
                let texts = try decode(batch.map(\.request))
                for (entry, result) in zip(batch, texts) { entry.done(.success(result)) }
            } catch {
                // One request's trouble (a prompt too long, an unreadable adapter) must not fail its neighbours:
                // each is tried alone.
                for entry in batch { entry.done(batch.count == 1 ? .failure(error) : Result { try decode([entry.request])[0] }) }
            }
        }
    }

    /// One batched generation over every row of `requests`.
    private func decode(_ requests: [ReplyRequest]) throws -> [[String]] {
        let started = DispatchTime.now().uptimeNanoseconds
        var prompts: [[Int]] = [], samplings: [SamplingOptions] = [], weights: [[Tensor]?] = []
        var owners: [(request: Int, index: Int)] = [], limits: [Int] = []
        for (number, request) in requests.enumerated() {
            let rowWeights = try request.adapter.map(weights(for:))
            for (index, sampling) in request.samplings.enumerated() {
                prompts.append(request.prompt)
                samplings.append(sampling)
                weights.append(rowWeights)
                owners.append((number, index))
                limits.append(request.maxNewTokens)
            }
        }
        let stops = tokenizer.eosTokenIDs
        var decoders = prompts.map { _ in StreamingDecoder(tokenizer: tokenizer, skipSpecialTokens: true) }
        var counts = [Int](repeating: 0, count: prompts.count)
        var options = TextGenerator.Options(maxNewTokens: limits.max()!, stopTokenIDs: stops, padTokenID: tokenizer.paddingID)
        options.dropsFinishedRows = false  // the users' adapter weights are laid out by batch row
        let generate = {
            try TextGenerator(model: self.model).generate(prompts, options: options, rowSampling: samplings) { row, token in
                counts[row] += 1
                if !stops.contains(token) {
                    let piece = decoders[row].append(token)
                    if !piece.isEmpty { requests[owners[row].request].onText(owners[row].index, piece) }
                }
                return counts[row] < limits[row]
            }
        }
        let ids = try withNoGrad {
            if weights.allSatisfy({ $0 == nil }) { return try adapters.withAdaptersDisabled(generate) }
            return try adapters.withRowWeights(weights, generate)
        }
        let tokens = ids.reduce(0) { $0 + $1.count }
        statistics.withLock { $0.record(rows: ids.count, tokens: tokens, nanoseconds: DispatchTime.now().uptimeNanoseconds - started) }
        var texts = requests.map { [String](repeating: "", count: $0.samplings.count) }
        for (row, owner) in owners.enumerated() {
            texts[owner.request][owner.index] = tokenizer.decodeCompletion(ids[row], stopTokenIDs: stops)
        }
        return texts
    }

    private func weights(for key: AdapterKey) throws -> [Tensor] {
        let (cached, evictions) = cache.withLock { ($0.weights(for: key), $0.evictions(of: key.user)) }
        if let cached { return cached }
        let loaded = try PEFTAdapter.weights(from: files.directory(user: key.user, version: key.version), shapedLike: adapters)
        // Not kept when the user was evicted while loading (deleted, rolled back): that eviction must stand.
        cache.withLock { if $0.evictions(of: key.user) == evictions { $0.insert(loaded, for: key) } }
        return loaded
    }

    /// Bytes of one user's adapter weights in memory.
    var bytesPerAdapter: Int { adapters.namedParameters.reduce(0) { $0 + 4 * $1.parameter.value.count } }
}

/// Loaded adapters, least recently used first out.
struct AdapterCache {
    let capacity: Int
    private var entries: [Int64: (version: Int, weights: [Tensor])] = [:]
    private var order: [Int64] = []
    /// How often each user was evicted: a load that began before an eviction is not kept.
    private var evictionCounts: [Int64: Int] = [:]

    init(capacity: Int) { self.capacity = capacity }

    var count: Int { entries.count }

    mutating func weights(for key: AdapterKey) -> [Tensor]? {
        guard let entry = entries[key.user], entry.version == key.version else { return nil }
        order.removeAll { $0 == key.user }
        order.append(key.user)
        return entry.weights
    }

    func evictions(of user: Int64) -> Int { evictionCounts[user, default: 0] }

    mutating func insert(_ weights: [Tensor], for key: AdapterKey) {
        entries[key.user] = nil
        order.removeAll { $0 == key.user }
        entries[key.user] = (key.version, weights)
        order.append(key.user)
        while order.count > capacity { entries[order.removeFirst()] = nil }
    }

    mutating func remove(user: Int64) {
        evictionCounts[user, default: 0] += 1
        entries[user] = nil
        order.removeAll { $0 == user }
    }
}

/// What the engine has decoded since the server started.
struct EngineStatistics: Codable, Sendable {
    var batches = 0
    var rows = 0
    var tokens = 0
    var seconds = 0.0

    mutating func record(rows: Int, tokens: Int, nanoseconds: UInt64) {
        batches += 1
        self.rows += rows
        self.tokens += tokens
        seconds += Double(nanoseconds) / 1e9
    }
}

/// A request the personalization server cannot serve now, or at all.
enum PersonalizationError: Error, CustomStringConvertible {
    /// Too many requests waiting (HTTP 503).
    case busy(String)

    var description: String {
        switch self {
        case .busy(let message): message
        }
    }
}

import Feedback
import Hummingbird
import Foundation
import Models
import Synchronization
import Tensor
import Tokenizer

/// The model side of `rlhf serve --model`: end users chat with the base model through their own adapters, their
/// feedback trains those adapters in the background, and labeling projects can have completions sampled for bare
/// prompts. Add it to `FeedbackServer.application(extensions:)`.
public final class PersonalizationServer: ServerExtension, @unchecked Sendable {
    public let config: PersonalizationConfig
    let store: FeedbackStore
    let engine: ReplyEngine
    let worker: PersonalizationWorker
    let files: AdapterFiles
    /// Turns sampled per user since the start: each turn's seed comes from its user and its rank, so a user's replies do
    /// not depend on how other users' requests interleave with theirs.
    private let turns = Mutex<[Int64: UInt64]>([:])

    /// Loads the model once, attaches the serving adapters and starts the reply thread and the training worker.
    public init(config: PersonalizationConfig, store: FeedbackStore, log: @escaping @Sendable (String) -> Void = { _ in }) throws {
        try config.validate()
        self.config = config
        self.store = store
        let directory = try ModelDirectory.locate(config.model)
        let tokenizer = try Tokenizer(directory: directory)
        let model = try ModelDirectory.load(directory)
        files = try AdapterFiles(root: URL(fileURLWithPath: config.adapters))
        engine = try ReplyEngine(model: model, tokenizer: tokenizer, lora: config.lora, files: files, maxBatchRows: config.maxBatchRows,
                                 queueLimit: config.queueLimit, loadedAdapters: config.loadedAdapters)
        // The trainer's twin shares the base weights; adapters belong to layers, so each instance has its own.
        let trainer = try PersonalTrainer(config: config, directory: directory, base: model, tokenizer: tokenizer)
        worker = PersonalizationWorker(store: store, trainer: trainer, files: files, engine: engine, config: config, log: log)
        worker.start()
    }

    public func register(api: RouterGroup<FeedbackContext>) {
        ChatRoutes(server: self).register(on: api)
    }

    var tokenizer: Tokenizer { engine.tokenizer }

    func nextSeed(user: Int64) -> UInt64 {
        let turn = turns.withLock { counts in
            counts[user, default: 0] += 1
            return counts[user]!
        }
        var mixer = SeededGenerator(seed: config.seed ^ (UInt64(bitPattern: user) &* 0x9E37_79B9_7F4A_7C15) ^ turn)
        return mixer.next()
    }

    /// The prompt a conversation renders to (the chat template, up to the assistant's reply).
    func prompt(for messages: [ChatTurnMessage]) throws -> String {
        try tokenizer.applyChatTemplate(messages.map { ChatMessage(role: $0.role, content: $0.content) }, addGenerationPrompt: true,
                                        template: config.chatTemplate)
    }

    /// The user's serving adapter (nil: the base model).
    func adapterKey(user: Int64) async throws -> AdapterKey? {
        let version = try await store.chatUser(user).adapterVersion
        return version > 0 ? AdapterKey(user: user, version: version) : nil
    }

    /// Every trace of a user: training stops, rows and files go, the loaded adapter is dropped.
    func forget(user: Int64) async throws {
        worker.cancel(user: user)
        try await store.deleteChatUser(user)
        try files.removeUser(user)
        engine.evict(user: user)
    }
}

import ArgumentParser
import Data
import Feedback
import Foundation
import Personalization

struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the labeling web app: JSON API, labeler page and admin page.",
        discussion: """
            Everything is kept in the SQLite file --db (WAL, synchronous=FULL: an acknowledged submission survives \
            a crash; the file is readable by its owner only). The admin token is RLHF_ADMIN_TOKEN when set (at \
            least 32 characters; setting a new one revokes the old); otherwise one is generated and printed on the \
            first start only (tokens are stored hashed). A leaked labeler link is revoked with DELETE \
            /api/labelers/ID/tokens. Open /admin#token=ADMIN_TOKEN to create projects, upload \
            items and invite labelers; each labeler gets a personal link /label?project=ID#token=THEIR_TOKEN. \
            The API is described in docs/openapi.yaml.

            With --model the server also chats: POST /api/users (admin) makes an end user with a token; their page \
            is /chat#token=USER_TOKEN. Every --update-every feedback events of a user train that user's LoRA \
            adapter in the background (DPO on choices, KTO on thumbs, SFT on corrections; versions kept under \
            --adapters), and their next replies come from it. The model also samples completions for bare prompts \
            (POST /api/projects/ID/prompts). See docs/personalization.md.
            """)

    @Option(help: "SQLite database file; created when missing.")
    var db: String

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on; 0 picks a free one (printed).")
    var port = 8080

    @Option(help: help("Seconds after which an item a labeler took and left unjudged goes back to the pool.",
                       default: FeedbackStore.defaultAssignmentTimeout))
    var assignmentTimeout: Double?

    @OptionGroup(title: "Personalized chat (with --model)") var chat: PersonalizationFlags

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be in 0...65535") }
    }

    func run() throws {
        let (db, host, port) = (db, host, port)
        let timeout = assignmentTimeout ?? FeedbackStore.defaultAssignmentTimeout
        let personalization = try chat.configuration(database: db)
        if chat.printConfig { return print(String(decoding: try ConfigCoding.encode(personalization ?? PersonalizationConfig()), as: UTF8.self)) }
        try runAsync {
            let environmentToken = ProcessInfo.processInfo.environment["RLHF_ADMIN_TOKEN"]
            if let environmentToken, !environmentToken.isEmpty { try FeedbackStore.checkAdminToken(environmentToken) }
            let store = try FeedbackStore(path: db, assignmentTimeout: timeout)
            let extensions: [any ServerExtension] = try personalization.map { config in
                [try PersonalizationServer(config: config, store: store, log: printLine)]
            } ?? []
            if let environmentToken, !environmentToken.isEmpty {
                // Rotated before serving: no request may still pass with an old admin token.
                _ = try await store.prepareAdminToken(environmentToken: environmentToken)
            }
            let app = try FeedbackServer.application(store: store, host: host, port: port, extensions: extensions) { boundPort in
                // A generated token only once the port is ours: a failed start neither shows nor stores one nobody sees.
                if environmentToken?.isEmpty ?? true {
                    do {
                        if let token = try await store.prepareAdminToken(environmentToken: nil) {
                            printLine("admin token (shown only this once; keep it, or set RLHF_ADMIN_TOKEN): \(token)")
                        }
                    } catch {
                        printLine("error: no admin token could be made (\(error)); restart to try again")
                    }
                }
                printLine("serving \(db) on http://\(host):\(boundPort) (admin page: /admin#token=ADMIN_TOKEN)"
                          + (personalization.map { " with \($0.model) (chat page: /chat#token=USER_TOKEN)" } ?? ""))
            }
            do { try await app.runService() } catch where "\(error)".contains("Address already in use") {
                throw JobError("cannot listen on \(host):\(port): the address is already in use (another rlhf serve?); choose another --port")
            }
        }
    }
}

/// One line on stdout, written at once (a pipe would otherwise buffer it).
@Sendable private func printLine(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

/// `rlhf serve`'s model flags, onto `PersonalizationConfig`.
struct PersonalizationFlags: ParsableArguments {
    @Option(help: "A model (directory or Hub id) to chat with end users and learn each one's adapter; without it the server only labels.")
    var model: String?

    @Option(help: "Where users' adapter versions are kept (default: the database's path + .adapters).")
    var adapters: String?

    @Option(help: "A JSON configuration of the chat (as --print-config writes it); flags given as well override its fields.")
    var config: String?

    @Option(help: help("Train a user's adapter after this many new feedback events of theirs.", default: PersonalizationConfig().updateEvery))
    var updateEvery: Int?

    @Option(help: "A file holding a Jinja chat template to use instead of the tokenizer's.")
    var chatTemplateFile: String?

    @Option(help: help("Rank of every user's LoRA adapter.", default: PersonalizationConfig().lora.rank))
    var loraRank: Int?

    @Option(name: .customLong("lr"), help: help("Learning rate of each update.", default: PersonalizationConfig().training.learningRate))
    var learningRate: Float?

    @Option(help: help("Passes over the user's feedback in each update.", default: PersonalizationConfig().training.epochs))
    var epochs: Double?

    @Option(help: help("β of DPO and KTO: how far a user's adapter may move from the base.", default: PersonalizationConfig().beta))
    var beta: Float?

    @Option(help: help("Weight of the NLL of chosen replies beside DPO (RPO).", default: PersonalizationConfig().rpoAlpha))
    var rpoAlpha: Float?

    @Option(help: "Preference pairs of the base model's (JSONL) replayed in every update.")
    var replay: String?

    @Option(help: help("Share of the time the background training may run (it sleeps between steps).", default: PersonalizationConfig().workerCPUShare))
    var workerCpuShare: Double?

    @Option(help: help("New tokens of a reply when a request does not say.", default: PersonalizationConfig().maxNewTokens))
    var maxNewTokens: Int?

    @Option(help: help("Sampling temperature when a request does not say (0: greedy).", default: PersonalizationConfig().temperature))
    var temperature: Float?

    @Option(help: help("Replies decoded together in one batch across users.", default: PersonalizationConfig().maxBatchRows))
    var maxBatchRows: Int?

    @Option(help: help("Seed of sampling and of every adapter's initialisation.", default: PersonalizationConfig().seed))
    var seed: UInt64?

    @Flag(help: "Print the chat configuration these flags make, as JSON, and exit.")
    var printConfig = false

    /// The chat's configuration, or nil without --model (and no --config).
    func configuration(database: String) throws -> PersonalizationConfig? {
        guard model != nil || config != nil || printConfig else { return nil }
        var chat = try config.map { try ConfigCoding.load(URL(fileURLWithPath: $0), over: PersonalizationConfig()) } ?? PersonalizationConfig()
        set(&chat.model, model)
        set(&chat.updateEvery, updateEvery)
        set(&chat.lora.rank, loraRank)
        set(&chat.training.learningRate, learningRate)
        set(&chat.training.epochs, epochs)
        set(&chat.beta, beta)
        set(&chat.rpoAlpha, rpoAlpha)
        set(&chat.replay, replay)
        set(&chat.workerCPUShare, workerCpuShare)
        set(&chat.maxNewTokens, maxNewTokens)
        set(&chat.temperature, temperature)
        set(&chat.maxBatchRows, maxBatchRows)
        set(&chat.seed, seed)
        if let chatTemplateFile {
            guard let source = try? String(contentsOfFile: chatTemplateFile, encoding: .utf8) else {
                throw ValidationError("\(chatTemplateFile): cannot read the chat template")
            }
            chat.chatTemplate = source
        }
        if let adapters { chat.adapters = adapters } else if chat.adapters.isEmpty { chat.adapters = database + ".adapters" }
        if !printConfig { try chat.validate() }
        return chat
    }
}

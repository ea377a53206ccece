import ArgumentParser
import Foundation
import Hub

struct CacheCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cache", abstract: "The Hugging Face model cache (shared with huggingface_hub).",
        subcommands: [CacheListCommand.self, CacheRemoveCommand.self])
}

struct CacheListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "The cached models, their revisions and sizes.")

    @Flag(help: "Print {\"cache\", \"models\": [{\"id\", \"refs\", \"snapshots\", \"bytes\", \"incomplete_bytes\"}]}.")
    var json = false

    func run() throws {
        let cache = HubStore().cache
        let entries = try cache.entries()
        if json {
            struct Output: Encodable { let cache: String, models: [HubCacheEntry] }
            return try printJSON(Output(cache: cache.root.path, models: entries))
        }
        print("cache \(cache.root.path): \(entries.count) models, \(megabytes(entries.reduce(0) { $0 + $1.bytes }))")
        for entry in entries {
            let refs = entry.refs.sorted { $0.key < $1.key }.map { "\($0.key) → \($0.value.prefix(7))" }.joined(separator: ", ")
            let partial = entry.incompleteBytes > 0 ? " (\(megabytes(entry.incompleteBytes)) partly downloaded)" : ""
            print("\(entry.id)\t\(megabytes(entry.bytes))\(partial)\t\(entry.snapshots.count) snapshots\t\(refs)")
        }
    }
}

struct CacheRemoveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove",
        abstract: "Remove a model from the cache, or one revision of it (its snapshot and the files no other uses).")

    @Argument(help: ArgumentHelp("The model (optionally @revision).", valueName: "owner/name"))
    var id: String

    @Option(help: "Remove only this branch, tag or commit.")
    var revision: String?

    func run() throws {
        let model = try hubID(id, revision: revision)
        let revisionOnly = revision != nil || id.contains("@")
        let freed = try HubStore().cache.remove(model, revisionOnly: revisionOnly)
        print("removed \(revisionOnly ? model.description : model.repository) (\(megabytes(freed)) freed)")
    }
}

private func megabytes(_ bytes: Int) -> String { String(format: "%.1f MB", Double(bytes) / 1_000_000) }

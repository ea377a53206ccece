import ArgumentParser
import Foundation
import Hub

struct DownloadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "download",
        abstract: "Fetch a model from the Hugging Face Hub into its cache; prints the snapshot directory.",
        discussion: """
            The cache is huggingface_hub's (HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub), so Python \
            tools find what this downloads and the other way round. HF_ENDPOINT names another Hub; HF_TOKEN (or the \
            token file of `hf auth login`) opens gated models. Files already cached are checked against their \
            checksums and fetched again if they differ; an interrupted download resumes where it stopped. Any \
            command's --model also takes an id and downloads what the cache lacks.
            """)

    @Argument(help: ArgumentHelp("The model, e.g. Qwen/Qwen2.5-0.5B-Instruct (optionally @revision).", valueName: "owner/name"))
    var id: String

    @Option(help: "Branch, tag or commit (default: main).")
    var revision: String?

    @Option(help: ArgumentHelp("Only files matching this shell pattern, `*` not crossing `/` (repeatable; default: what a model "
                               + "directory needs: \(HubStore.modelPatterns.joined(separator: " ")) and the weights the index names).",
                               valueName: "glob"))
    var include: [String] = []

    func run() throws {
        let model = try hubID(id, revision: revision)
        let snapshot = try HubStore(progress: HubProgressPrinter().handler).download(model, include: include.isEmpty ? nil : include)
        print(snapshot.path)
    }
}

/// `owner/name[@revision]`, with `--revision` as the other way to give the revision.
func hubID(_ text: String, revision: String?) throws -> HubModelID {
    guard let id = HubModelID(parsing: text) else { throw ValidationError("\(text): not a Hub id (owner/name, optionally @revision)") }
    guard let revision else { return id }
    guard !text.contains("@") else { throw ValidationError("give the revision either after @ or with --revision, not both") }
    guard let pinned = id.at(revision: revision) else { throw ValidationError("\(revision): not a branch, tag or commit name") }
    return pinned
}

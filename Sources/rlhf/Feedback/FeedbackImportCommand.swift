import ArgumentParser
import Feedback
import Foundation

struct FeedbackImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Add items for labeling to a project from a completions file.",
        discussion: """
            The file is JSONL (or a JSON array) of {"id", "prompt", "completions": [...]}, as `rlhf complete` \
            writes; "id" is optional and a completion may be {"text", "model"} to compare models later. All items \
            are added or, on any error, none.
            """)

    @OptionGroup var target: FeedbackProjectOptions

    @Option(help: "Completions file (JSONL or JSON array).")
    var file: String

    @Flag(help: "Print {\"added\"} as JSON.")
    var json = false

    func run() throws {
        let added = try FeedbackImportConfig(db: target.db, project: target.project, file: file).run()
        if json { try printJSON(["added": added]) } else { print("added \(added) items to project \(target.project)") }
    }
}

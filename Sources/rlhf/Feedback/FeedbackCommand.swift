import ArgumentParser
import Feedback
import Foundation

struct FeedbackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "feedback",
        abstract: "Labeling data offline: import items, export judgments, report agreement, label with an AI judge.",
        subcommands: [FeedbackImportCommand.self, FeedbackExportCommand.self, FeedbackStatsCommand.self, FeedbackAILabelCommand.self])
}

/// The database and project every feedback subcommand works on.
struct FeedbackProjectOptions: ParsableArguments {
    @Option(help: "SQLite database file of `rlhf serve`.")
    var db: String

    @Option(help: "Project id.")
    var project: Int64
}

extension ExportFormat: ExpressibleByArgument {}
extension LabelSource: ExpressibleByArgument {}

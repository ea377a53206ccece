import ArgumentParser
import Feedback
import Foundation

struct FeedbackStatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Progress, agreement (Krippendorff's α), each labeler's Kendall τ against the consensus, model ratings.")

    @OptionGroup var target: FeedbackProjectOptions

    @Option(help: "Labelers whose mean τ is below this are reported as unreliable.")
    var minTau = LabelerReliability<Int64>.defaultThreshold

    @Flag(help: "Print the stats as one JSON object (as GET /api/projects/{id}/stats).")
    var json = false

    func run() throws {
        var config = FeedbackStatsConfig(db: target.db, project: target.project)
        config.minTau = minTau
        let stats = try config.run()
        if json { return try printJSON(stats) }
        print(stats.report)
    }
}

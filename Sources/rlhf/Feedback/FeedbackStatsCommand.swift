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
        let progress = stats.progress
        print("project \(stats.project.id) \"\(stats.project.settings.name)\": \(progress.submissions)/\(progress.submissionsNeeded) judgments, "
              + "\(progress.itemsComplete)/\(progress.items) items complete")
        print("agreement (Krippendorff's α, ordinal): \(stats.agreement.map { format($0) } ?? "undefined")")
        for labeler in stats.labelers {
            let tau = labeler.tau.map { format($0) } ?? "–"
            print("  \(labeler.name) (#\(labeler.id)): \(labeler.submissions) judgments, τ \(tau)\(labeler.unreliable ? "  UNRELIABLE" : "")")
        }
        for rating in stats.ratings {
            print("  model \(rating.model): \(Int(rating.rating.rounded())) Elo [\(Int(rating.low.rounded())), \(Int(rating.high.rounded()))], "
                  + "\(rating.comparisons) comparisons")
        }
    }

    private func format(_ value: Double) -> String { String(format: "%.3f", value) }
}

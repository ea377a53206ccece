import ArgumentParser
import Feedback
import Foundation

struct FeedbackExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a project's judgments as JSONL: consensus pairs, HH-RLHF transcripts, thumbs or raw rankings.",
        discussion: """
            pairs: {"prompt", "chosen", "rejected", "margin"} for every pair of differently ranked completions of \
            each item's consensus (ranked pairs; completions flagged by a majority dropped). hh: the same pairs as \
            {"chosen", "rejected"} transcripts "\\n\\nHuman: ...\\n\\nAssistant: ...". thumbs: {"prompt", \
            "completion", "label"} by majority. rankings: every labeler's ranking as submitted.
            """)

    @OptionGroup var target: FeedbackProjectOptions

    @Option(help: "pairs, hh, thumbs or rankings.")
    var format: ExportFormat = .pairs

    @Flag(help: "Leave out labelers whose mean Kendall τ against the consensus is below --min-tau.")
    var excludeUnreliable = false

    @Option(help: "Reliability threshold on mean Kendall τ.")
    var minTau = LabelerReliability<Int64>.defaultThreshold

    @Option(help: "Whose rankings make the consensus: human (AI labelers, named ai:…, left out), ai (theirs alone) or all.")
    var labelers: LabelSource = .human

    @Option(help: "Output file; default: standard output.")
    var out: String?

    func run() throws {
        var config = FeedbackExportConfig()
        (config.db, config.project, config.format, config.excludeUnreliable, config.minTau) = (target.db, target.project, format, excludeUnreliable, minTau)
        config.labelers = labelers
        config.out = out ?? ""
        let data = try config.run()
        if let out {
            print("wrote \(data.count { $0 == UInt8(ascii: "\n") }) \(format.rawValue) lines to \(out)")
        } else {
            FileHandle.standardOutput.write(data)
        }
    }
}

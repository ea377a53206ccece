import Alignment
import ArgumentParser
import Foundation

struct FeedbackAILabelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ai-label",
        abstract: "Rank a project's items with an AI judge, as a labeler named ai:<judge>, to compare with the humans.",
        discussion: """
            Each pair of an item's completions goes to the judge as a multiple-choice question under a sampled \
            principle of the constitution, in both orders (see `rlhf constitution label`); a completion's score is \
            its summed probability of being the better one, and the ranking is stored through the same API as the \
            humans'. The AI labeler takes no human's slot and stays out of the human consensus: `rlhf feedback stats` \
            reports its Kendall τ against that consensus and against each human, and `rlhf feedback export` leaves \
            its rankings out unless --labelers ai or all. Running it again ranks only items it has not ranked yet. \
            The library call is AILabelConfig.run.
            """)

    private static let defaults = AILabelConfig()

    @OptionGroup var target: FeedbackProjectOptions
    @Option(help: ArgumentHelp("The judge model: directory or Hub id.", valueName: "dir|id")) var judge: String
    @Option(help: ArgumentHelp("A constitution JSON file (default: RLHFKit's own).", valueName: "file")) var constitution: String?
    @Option(help: "The labeler's name, starting with ai: (default: ai:<the judge's directory name>).") var name: String?
    @Option(help: help("Comparisons scored per forward pass.", default: defaults.batchSize)) var batchSize: Int?
    @Option(help: help("Seed for the principles.", default: defaults.seed)) var seed: UInt64?

    func run() throws {
        var config = AILabelConfig()
        (config.db, config.project, config.judge) = (target.db, target.project, judge)
        set(&config.constitution, constitution)
        set(&config.name, name)
        set(&config.batchSize, batchSize)
        set(&config.seed, seed)
        let progress = ProgressLine(enabled: true)
        let (labeler, items) = try config.run { progress.say($0) }
        progress.clear()
        print("\(config.labelerName) (labeler #\(labeler)) ranked \(items) items of project \(target.project); "
              + "`rlhf feedback stats` shows its agreement with the humans")
    }
}

import Alignment
import ArgumentParser
import Demo
import Foundation

extension DemoFeedback: ExpressibleByArgument {}

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run all of RLHF on a built-in assistant task, from an empty model to PPO-, DPO- and GRPO-tuned ones.",
        discussion: """
            The task (generated, no downloads): people ask "What's A-B and C-D?" or describe an everyday problem \
            ("My house is too hot."), politely, plainly or rudely. A hidden rubric scores replies for correctness, \
            helpfulness and harmlessness. The demo trains a tokenizer, pretrains a tiny Llama, fine-tunes it on \
            demonstrations of which about half contain mistakes, samples 4 completions per prompt, lets three \
            simulated labelers (one unreliable) rank them through the feedback store, exports consensus pairs, \
            trains a reward model, runs PPO against it, runs PPO again with --kl-coef 0 (the reward-hacking \
            ablation), trains a DPO policy on the same pairs and a GRPO policy against the same reward model, and \
            evaluates all of them against the SFT model. Each stage is a library run (the Demo module's DemoPipeline) \
            and prints the command that does the same. Writes \
            DIR/sft, DIR/reward, DIR/policy, DIR/dpo, DIR/grpo (model directories), DIR/summary.json and DIR/report.html.
            """)

    @Option(help: "Output directory (must not exist yet, or be empty; with --resume, the one to continue).")
    var out = "rlhf-demo"

    @Option(help: help("Seed of the task data and of every stage.", default: DemoSettings().seed))
    var seed: UInt64?

    @Option(help: help("KL coefficient β of the PPO run.", default: DemoSettings().klCoefficient))
    var klCoef: Double?

    @Option(help: help("Per-token KL to the SFT model the PPO policy must stay under.", default: DemoSettings().klBudget))
    var klBudget: Double?

    @Flag(help: "A few steps of every stage, to check the plumbing in seconds (the results mean nothing).")
    var quick = false

    @Option(help: ArgumentHelp("Where preferences come from: human (the simulated labelers) or ai (also a judge model taught by "
                               + "a few hundred of their comparisons, whose labels alone train a second reward model and PPO run; "
                               + "the β = 0 ablation, DPO and GRPO are left out).", valueName: "human|ai"))
    var feedback: DemoFeedback = .human

    @Flag(help: "Continue an interrupted demo in --out: stages that finished are skipped (same flags needed).")
    var resume = false

    func run() throws {
        let out = URL(fileURLWithPath: self.out)
        let existing = (try? FileManager.default.contentsOfDirectory(atPath: out.path)) ?? []
        guard resume || existing.isEmpty else {
            throw ValidationError("\(out.path) is not empty: pass --resume to continue that demo, or choose another --out")
        }
        let reporter = TrainingReporter()
        var settings = DemoSettings()
        set(&settings.seed, seed)
        set(&settings.klCoefficient, klCoef)
        set(&settings.klBudget, klBudget)
        (settings.quick, settings.feedback) = (quick, feedback)
        let pipeline = DemoPipeline(out: out, settings: settings, resume: resume, onEvent: reporter.handle)
        let summary = try pipeline.run()
        print("\n" + DemoReport.table(summary))
        print(String(format: "wrote %@ and %@ in %.0f s", out.appendingPathComponent("summary.json").path,
                     out.appendingPathComponent("report.html").path, summary.totalSeconds))
    }
}

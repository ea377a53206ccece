import Alignment
import Data
import Feedback
import Foundation

/// `rlhf demo --feedback ai`: RLAIF beside RLHF. A judge — the SFT model, taught by the human consensus of the first
/// items as multiple-choice questions (it learns from examples, never sees the rubric) — ranks other items as an AI
/// labeler next to the simulated humans, and reward → PPO run again from its labels alone.
extension DemoPipeline {
    /// The one principle the demo's judge is asked about: the labelers' guideline.
    static let judgeConstitution = Constitution(name: "rlhf demo", principles: [
        .init(name: "overall", critiqueRequest: "Point out what is wrong, unhelpful or impolite in the assistant's last reply.",
              revisionRequest: "Rewrite the reply to be correct, helpful and polite.",
              preferenceQuestion: "Which of these assistant replies is more correct, helpful and polite?"),
    ])

    /// Runs the AI-feedback stages and returns the PPO run trained on AI labels (written to `policy-ai`).
    func aiFeedback(reward human: RewardConfig, ppo humanPPO: PPOConfig) throws -> RunResult {
        let database = path("feedback/feedback.sqlite")
        let analysis = try FeedbackStatsConfig(db: database, project: 1).analysis()
        let question = Self.judgeConstitution.principles[0].preferenceQuestion
        struct Row: Encodable { let prompt: String, completion: String }
        var rows: [Row] = []
        var comparisons = 0
        for (item, pairs) in analysis.consensusPairs.prefix(scale.judgeItems) {
            let text = Dictionary(uniqueKeysWithValues: item.completions.map { ($0.id, $0.text) })
            for pair in pairs {
                let (chosen, rejected) = (text[pair.chosen]!, text[pair.rejected]!)
                rows.append(Row(prompt: AIJudge.question(prompt: item.prompt, principle: question, a: chosen, b: rejected), completion: " (A)"))
                rows.append(Row(prompt: AIJudge.question(prompt: item.prompt, principle: question, a: rejected, b: chosen), completion: " (B)"))
                comparisons += 1
            }
        }
        try JSONLines.write(rows, to: URL(fileURLWithPath: path("data/judge.jsonl")))
        try JSONEncoder().encode(Self.judgeConstitution).write(to: URL(fileURLWithPath: path("feedback/constitution.json")))

        var judge = SFTConfig()
        (judge.model, judge.dataset.data, judge.out, judge.dataset.maxLength, judge.dataset.evalSplit) = (path("sft"), path("data/judge.jsonl"), path("judge"), 512, 0.1)
        (judge.training.epochs, judge.training.batchSize, judge.training.learningRate) = (Double(scale.judgeEpochs), 16, 1e-3)
        (judge.training.schedule, judge.training.seed) = (.cosine, seed)
        let judgeRun = try train("judge", judge) { try $0.run($1) }

        // The AI labeler's items: ones the judge never saw, labelled by the humans too, in a project of their own.
        let project: Int64 = 2
        let lines = try String(contentsOfFile: path("feedback/completions.jsonl"), encoding: .utf8).split(separator: "\n")
        try Data(lines.dropFirst(scale.judgeItems).prefix(scale.aiItems).map { $0 + "\n" }.joined().utf8)
            .write(to: URL(fileURLWithPath: path("feedback/ai_completions.jsonl")))
        let panel = try simulatedLabeling(project: project, name: "rlhf demo, AI feedback", file: path("feedback/ai_completions.jsonl"),
                                          stages: ("ai project", "ai import", "ai project labels"),
                                          labelCommand: "(the same three simulated labelers rank project \(project), for comparison)")
        var label = AILabelConfig()
        (label.db, label.project, label.judge, label.constitution, label.name) = (database, project, path("judge"), path("feedback/constitution.json"), "ai:judge")
        try stage("ai-label", label) { config in
            let (labeler, items) = try config.run()
            log("\(config.labelerName) (#\(labeler)) ranked \(items) items")
        }
        let stats = try FeedbackStatsConfig(db: database, project: project).run()
        log(stats.report)
        var export = FeedbackExportConfig()
        (export.db, export.project, export.format, export.labelers, export.out) = (database, project, .pairs, .ai, path("feedback/ai_pairs.jsonl"))
        try stage("ai export", export) { config in
            log("wrote \(try config.run().count { $0 == UInt8(ascii: "\n") }) AI-labelled pairs to \(config.out)")
        }

        var reward = human
        (reward.dataset.data, reward.out) = (path("feedback/ai_pairs.jsonl"), path("reward-ai"))
        let rewardRun = try train("reward (AI labels)", reward) { try $0.run($1) }
        var ppo = humanPPO
        (ppo.reward, ppo.out) = (path("reward-ai"), path(DemoReport.aiPolicy))
        let ppoRun = try train("ppo (AI feedback)", ppo) { try $0.run($1) }

        let ai = stats.labelers.first(where: \.ai)
        summary.aiFeedback = DemoSummary.AIFeedback(
            judgeComparisons: comparisons, judgeItems: min(scale.judgeItems, analysis.consensusPairs.count),
            judgeHeldOutLoss: judgeRun.metrics["eval_loss"], items: stats.progress.items, tau: ai?.tau,
            agreement: ai?.agreementWithHumans.map { human in
                DemoSummary.AIFeedback.Agreement(name: human.name, tau: human.tau, items: human.items,
                                                 reliableBySimulation: panel.first { $0.name == human.name }?.reliable ?? true)
            } ?? [],
            pairs: try JSONLines.records(URL(fileURLWithPath: path("feedback/ai_pairs.jsonl"))).count,
            rewardHeldOutAccuracy: rewardRun.metrics["eval_accuracy"])
        summary.aiPPOCurve = Self.curve(ppoRun)
        return ppoRun
    }
}
